"""Draw a dialog as a Mermaid state diagram, from its declaration (not by hand).

python -m dialogs.diagram > docs/checkin.mmd
"""

from __future__ import annotations

import sys

from dialogs.engine import END, Action, Dialog, Expect

_EXPECTS = {
    Expect.YES_NO: "yes / no",
    Expect.TEXT: "details in words",
    Expect.TEXT_OR_NO: "free text or no",
}
_INTENTS = {
    "stop": "opt-out word, clear revocation, 9",
    "person": "asks for a person, 0",
    "maybe_stop": "ambiguous revocation",
    "help": "HELP / AYUDA",
    "start": "START",
}


def mermaid(dialog: Dialog) -> str:
    """Return a `stateDiagram-v2` of `dialog`: its nodes, answers and fallbacks.

    The fallbacks work on every question; they are drawn from one stand-in state, "any question",
    so that the chart stays readable.
    """
    lines = [
        f"%% Generated from dialogs/{dialog.name}.py by dialogs/diagram.py; do not edit.",
        f"%% Regenerate: python -m dialogs.diagram > docs/{dialog.name}.mmd",
        "stateDiagram-v2",
        f"    [*] --> {dialog.start}: start",
    ]
    lines += [f"    {node.id}: {node.id} ({_EXPECTS[node.expect]})" for node in dialog.nodes]
    for node in dialog.nodes:
        lines += [f"    {edge}" for edge in _edges(dialog, node.id)]
    lines += [
        "    closing: closing (pickup date, confirmed or flagged)",
        "    closing --> [*]",
        '    state "any question" as any_question',
    ]
    exits: dict[str, list[str]] = {}
    for intent, fallback in dialog.fallbacks.items():
        label = _INTENTS.get(intent, intent)
        if fallback.action is Action.OPT_OUT:
            exits.setdefault(dialog.opted_out_kind, []).append(label)
        elif fallback.action is Action.HAND_OFF:
            exits.setdefault(fallback.kind or dialog.needs_human_kind, []).append(label)
        else:
            what = "help text, " if fallback.action is Action.HELP else ""
            lines.append(f"    any_question --> any_question: {label} ({what}same question)")
    lines += [
        "    any_question --> any_question: not understood (asked again, answers spelled out)",
        "    any_question --> any_question: no input (asked again)",
    ]
    exits.setdefault(dialog.needs_human_kind, []).append(f"not understood x{dialog.retries + 1}")
    exits["paused"] = [f"no input x{dialog.no_input_retries + 1}"]
    for target, labels in exits.items():
        lines.append(f"    any_question --> {target}: {', '.join(labels)}")
        lines.append(f"    {target} --> [*]")
    lines += [
        "    note right of any_question",
        f"        HELP or START more than {dialog.max_stalls}x counts as not understood.",
        "        paused: the call ends, the check-in stays open (in_progress).",
        "        A details question with no input keeps the yes without words.",
        f"        After the end, replies become {dialog.late_kind} (keywords still act).",
        "    end note",
    ]
    return "\n".join(lines) + "\n"


def _edges(dialog: Dialog, node_id: str) -> list[str]:
    """Return the labelled transitions out of one node."""
    node = dialog.node(node_id)
    assert node is not None

    def name(target: str | None) -> str:
        return "closing" if target in (None, END) else str(target)

    edges = []
    if node.expect is Expect.TEXT:
        return [f"{node.id} --> {name(node.then)}: details (or none after no input)"]
    edges.append(f"{node.id} --> {name(node.yes)}: yes")
    if node.expect is Expect.TEXT_OR_NO:
        edges.append(f"{node.id} --> {name(node.then)}: question in words")
    else:
        details = dialog.node(node.yes or "")
        if details is not None and details.expect is Expect.TEXT:
            edges.append(f"{node.id} --> {name(details.then)}: yes with details")
    edges.append(f"{node.id} --> {name(node.no)}: no")
    return edges


def main() -> None:
    """Print the check-in diagram."""
    from dialogs.checkin import CHECKIN

    sys.stdout.write(mermaid(CHECKIN))


if __name__ == "__main__":
    main()
