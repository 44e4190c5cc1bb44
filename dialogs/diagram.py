"""Draw the check-in dialogs as one Mermaid state diagram, from their declarations (not by hand).

python -m dialogs.diagram > docs/checkin.mmd

Each form is a composite state; node ids are prefixed with the form ("quick_", "full_") so the
two stay apart. The fallbacks work on every question of both forms; they are drawn once, from a
stand-in state "any question", so that the chart stays readable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from dialogs.engine import CALLBACK_MESSAGE, END, IDENTITY, Action, Dialog, Expect

_EXPECTS = {
    Expect.YES_NO: "yes / no, or words that report it",
    Expect.TEXT: "details in words",
    Expect.TEXT_OR_NO: "free text or no",
    Expect.QUICK: "every topic at once: no, or the patient's words",
    Expect.MORE: "anything else? no, or words",
    Expect.IDENTITY: "voice: is this the patient? 1 yes",
}
_INTENTS = {
    "stop": "opt-out word, clear revocation, 9",
    "person": "asks for a person, 0",
    "maybe_stop": "ambiguous revocation",
    "help": "HELP / AYUDA",
    "start": "START",
}
_TITLES = {"checkin_quick": ("quick", "quick form (default)"), "checkin": ("full", "full form")}


def mermaid(dialogs: Iterable[Dialog]) -> str:
    """Return a `stateDiagram-v2` of the dialogs: their nodes, answers and fallbacks."""
    dialogs = list(dialogs)
    lines = [
        "%% Generated from dialogs/checkin.py by dialogs/diagram.py; do not edit.",
        "%% Regenerate: python -m dialogs.diagram > docs/checkin.mmd",
        "stateDiagram-v2",
    ]
    for dialog in dialogs:
        lines += _form(dialog)
    lines += _fallbacks(dialogs[0])
    return "\n".join(lines) + "\n"


def _form(dialog: Dialog) -> list[str]:
    prefix, title = _TITLES.get(dialog.name, (dialog.name, dialog.name))

    def name(target: str | None) -> str:
        return f"{prefix}_closing" if target in (None, END) else f"{prefix}_{target}"

    lines = [f'    state "{title}" as {prefix} {{']
    lines.append(f"        [*] --> {name(dialog.start)}: first text, inbound call")
    if dialog.node(IDENTITY) is not None:
        lines.append(f"        [*] --> {name(IDENTITY)}: outbound call")
    for node in dialog.nodes:
        lines.append(f"        {name(node.id)}: {node.id} ({_EXPECTS[node.expect]})")
    for node in dialog.nodes:
        lines += [f"        {edge}" for edge in _edges(dialog, node.id, name)]
    lines += [
        f"        {name(END)}: closing (pickup date; confirmed, or flagged if anything was raised)",
        f"        {name(END)} --> [*]",
        "    }",
    ]
    return lines


def _edges(dialog: Dialog, node_id: str, to: Callable[[str | None], str]) -> list[str]:
    """Return the labelled transitions out of one node (`to` names a node in the chart)."""
    node = dialog.node(node_id)
    assert node is not None
    source = to(node.id)
    if node.expect is Expect.IDENTITY:
        return [
            f"{source} --> {to(node.yes)}: 1 or yes (intro, then the first question)",
            f"{source} --> [*]: anyone else (pharmacy name and number only)",
        ]
    if node.expect is Expect.TEXT:
        label = "a message (callback_request)" if node.id == CALLBACK_MESSAGE else "details"
        return [f"{source} --> {to(node.then)}: {label} (or none after no input)"]
    edges = [f"{source} --> {to(node.no)}: no"]
    if node.expect is Expect.QUICK:
        edges += [
            f"{source} --> {to(node.yes)}: bare yes",
            f"{source} --> {to(node.then)}: words with findings",
            f"{source} --> {to(node.no)}: no, but ... (findings, the rest none)",
        ]
    elif node.expect is Expect.MORE:
        edges += [
            f"{source} --> {to(node.yes)}: bare yes",
            f"{source} --> {to(node.then)}: words (findings or a concern)",
        ]
    else:
        edges.append(f"{source} --> {to(node.yes)}: yes")
        details = dialog.node(node.yes or "")
        after = details.then if details is not None and details.expect is Expect.TEXT else None
        if node.expect is Expect.TEXT_OR_NO:
            edges.append(f"{source} --> {to(node.then)}: question in words")
        elif after is not None:
            edges.append(f"{source} --> {to(after)}: yes with details, or words that report it")
    return edges


def _fallbacks(dialog: Dialog) -> list[str]:
    lines = ['    state "any question" as any_question']
    exits: dict[str, list[str]] = {}
    for intent, fallback in dialog.fallbacks.items():
        label = _INTENTS.get(intent, intent)
        if fallback.action is Action.OPT_OUT:
            exits.setdefault("opted_out", []).append(label)
        elif fallback.action is Action.HAND_OFF:
            exits.setdefault(fallback.kind or "needs_human", []).append(label)
        else:
            what = "help text, " if fallback.action is Action.HELP else ""
            lines.append(f"    any_question --> any_question: {label} ({what}same question)")
    lines += [
        "    any_question --> any_question: who is this? (who we are, same question)",
        "    any_question --> any_question: not understood (asked again, answers spelled out)",
        "    any_question --> any_question: no input (asked again)",
    ]
    exits.setdefault("needs_human", []).append(f"not understood x{dialog.retries + 1}")
    exits["paused"] = [f"no input x{dialog.no_input_retries + 1}"]
    for target, labels in exits.items():
        lines.append(f"    any_question --> {target}: {', '.join(labels)}")
        lines.append(f"    {target} --> [*]")
    lines += [
        "    note right of any_question",
        "        Every reply is read for every finding, whatever was asked (dialogs/reader.py).",
        "        Doubt is never a no; words asked about again are kept as a concern.",
        f"        HELP or START more than {dialog.max_stalls}x counts as not understood.",
        "        Voice, asks for a person: put through in opening hours, else a message.",
        "        paused: the call ends, the check-in stays open (in_progress).",
        "        After the end, replies become concerns (keywords still act).",
        "    end note",
    ]
    return lines


def main() -> None:
    """Print the check-in diagram of both forms."""
    from dialogs.checkin import CHECKIN_FULL, CHECKIN_QUICK

    sys.stdout.write(mermaid((CHECKIN_QUICK, CHECKIN_FULL)))


if __name__ == "__main__":
    main()
