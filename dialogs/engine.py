"""A small dialog engine with no I/O: dialogs declared as data, steps as pure functions.

`step(dialog, state, event, ctx)` takes the saved state and one event (Start, Reply, Timeout) and
returns a `Step`: the new state, channel-neutral outputs to render (SMS or TwiML, done by the
caller), findings for the pharmacist queue, and the check-in outcome. The caller persists the
state (`DialogState.to_json`) and performs every effect; nothing here sends, stores or reads a
clock.

What a reply does, in order:
1. after the dialog ended: a keyword is honoured, anything else becomes a finding (never dropped);
2. an intent with a fallback (stop, help, start, person, unclear revocation) runs the fallback,
   whatever the question;
3. otherwise the node reads it: a yes/no question takes yes or no, a details question takes any
   words or a recording, a "text or no" question takes no, a bare yes, or the text itself;
4. what is left is not understood: re-asked `retries` times, then handed to a human.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Literal, TypeAlias, get_args

from dialogs import texts
from dialogs.context import LANGUAGES, Context, Lang, as_lang
from dialogs.understand import Intent, is_acknowledgement, read_digits, read_text

# --- Events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Begin a check-in (state None), or resume an open one (a reminder, an inbound call)."""


@dataclass(frozen=True)
class Reply:
    """The patient's answer: SMS text, keypad digits, speech with its confidence, a recording.

    A voice details answer comes as `recording_url`, with `text` holding a transcription if any.
    """

    text: str | None = None
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None
    recording_url: str | None = None


@dataclass(frozen=True)
class Timeout:
    """No input: the voice Gather timed out, or the patient did not reply."""


Event: TypeAlias = Start | Reply | Timeout

# --- Outputs (rendered by the caller, in order) ------------------------------------------------


@dataclass(frozen=True)
class Say:
    """A statement (SMS: one message; voice: <Say>)."""

    text: str


@dataclass(frozen=True)
class AskYesNo:
    """A yes/no question (voice: <Gather input="dtmf speech">, 1 yes, 2 no, then a fallback)."""

    text: str
    node: str


@dataclass(frozen=True)
class AskText:
    """A free-text question (SMS: one message; voice: <Record> after this prompt)."""

    text: str
    node: str


@dataclass(frozen=True)
class HandOff:
    """A person is needed; informational, the finding of the same kind carries the words."""

    kind: str


@dataclass(frozen=True)
class End:
    """The final words; the conversation (SMS exchange or call) is over."""

    text: str


Output: TypeAlias = Say | AskYesNo | AskText | HandOff | End

# --- Findings (queue items, SPEC 5.6) ---------------------------------------------------------

Kind: TypeAlias = Literal[
    "med_change",
    "adherence",
    "prn_need",
    "health_change",
    "concern",
    "callback_request",
    "needs_human",
    "opted_out",
]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
PRIORITY_HIGH: Final = 1
PRIORITY_NORMAL: Final = 2


@dataclass(frozen=True)
class Finding:
    """Something for the pharmacist: a queue item kind with the patient's own words.

    `text` is the patient's whole message (or every not-understood message, one per line);
    `node` is the question it answered; `note` explains a finding without words.
    """

    kind: str
    text: str | None
    recording_url: str | None
    priority: int = PRIORITY_NORMAL
    node: str | None = None
    note: str | None = None


# --- Declaring a dialog -----------------------------------------------------------------------

END: Final = "end"  # the node id that means "all questions answered": say the closing words


class Expect(StrEnum):
    """What a node waits for."""

    YES_NO = "yes_no"  # yes or no; a yes with words answers the following details node too
    TEXT = "text"  # the patient's words or a recording (the details after a yes)
    TEXT_OR_NO = "text_or_no"  # no, a bare yes (then details), or the text itself


@dataclass(frozen=True)
class Node:
    """One question: what it expects, where each answer goes, what finding its text raises.

    The node's id is also the key of its question in the text tables.
    """

    id: str
    expect: Expect
    yes: str | None = None  # next node after a bare yes
    no: str | None = None  # next node after no
    then: str | None = None  # next node after text (the details, or the free text)
    kind: str | None = None  # finding raised by the text answer
    priority: int = PRIORITY_NORMAL


class Action(StrEnum):
    """What a fallback does, whatever the question."""

    OPT_OUT = "opt_out"  # confirm once, raise `opted_out`, end
    HELP = "help"  # say the help text, ask the same question again
    REASK = "reask"  # ask the same question again
    HAND_OFF = "hand_off"  # raise the fallback's kind with the words, say `say`, end


@dataclass(frozen=True)
class Fallback:
    """An answer to an intent that works on every node."""

    action: Action
    kind: str | None = None
    priority: int = PRIORITY_NORMAL
    say: str | None = None  # text key of the closing words of a hand-off


@dataclass(frozen=True)
class Dialog:
    """A dialog as data: nodes, fallbacks, and how patient the engine is."""

    name: str
    start: str
    nodes: tuple[Node, ...]
    fallbacks: Mapping[Intent, Fallback]
    retries: int = 1  # re-asks after a reply that is not understood, then `needs_human`
    no_input_retries: int = 1  # re-asks after a timeout, then end (the check-in stays open)
    max_stalls: int = 2  # helps and starts per node before they count as not understood
    speech_threshold: float = 0.5  # speech below this confidence is not understood
    late_kind: str = "concern"  # finding for a reply after the dialog ended
    needs_human_kind: str = "needs_human"
    opted_out_kind: str = "opted_out"
    remark_kind: str = "concern"  # finding for "no, but ..."

    def __post_init__(self) -> None:
        ids = {node.id for node in self.nodes}
        targets = {t for n in self.nodes for t in (n.yes, n.no, n.then) if t is not None}
        if self.start not in ids or not targets <= ids | {END}:
            raise ValueError(f"dialog {self.name}: unknown node in {sorted(targets - ids)}")
        for node in self.nodes:
            if node.expect is not Expect.YES_NO and (node.kind is None or node.then is None):
                raise ValueError(f"dialog {self.name}: {node.id} needs a kind and a next node")
            if node.expect is not Expect.TEXT and node.no is None:
                raise ValueError(f"dialog {self.name}: {node.id} needs a next node for no")

    def node(self, node_id: str) -> Node | None:
        """Return the node called `node_id`, if the dialog has one."""
        return next((n for n in self.nodes if n.id == node_id), None)


# --- State and result -------------------------------------------------------------------------

Outcome: TypeAlias = Literal["in_progress", "confirmed", "flagged", "opted_out"]
OUTCOMES: Final[tuple[str, ...]] = get_args(Outcome)
STATE_VERSION: Final = 1


@dataclass(frozen=True)
class DialogState:
    """Where a conversation stands; saved as JSON between steps.

    `data` holds "answers" (node -> "yes" / "no" / "text" / "none"), "failed" (the replies not
    understood at the current node), "raised" (kinds of findings so far) and "opted_out".
    `retries`, `timeouts` and `stalls` count at the current node and reset when it changes.
    """

    node: str
    language: Lang
    data: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    retries: int = 0
    timeouts: int = 0
    stalls: int = 0
    outcome: Outcome = "in_progress"
    dialog: str = "checkin"
    version: int = STATE_VERSION

    def to_json(self) -> dict[str, Any]:
        """Return the state as a JSON-ready dict."""
        return {
            "dialog": self.dialog,
            "version": self.version,
            "node": self.node,
            "language": self.language,
            "done": self.done,
            "retries": self.retries,
            "timeouts": self.timeouts,
            "stalls": self.stalls,
            "outcome": self.outcome,
            "data": copy.deepcopy(self.data),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DialogState:
        """Rebuild a state from `to_json` output; raise ValueError if it is not one."""
        try:
            state = cls(
                node=str(raw["node"]),
                language=as_lang(str(raw["language"])),
                data=copy.deepcopy(dict(raw.get("data", {}))),
                done=bool(raw["done"]),
                retries=int(raw.get("retries", 0)),
                timeouts=int(raw.get("timeouts", 0)),
                stalls=int(raw.get("stalls", 0)),
                outcome=raw.get("outcome", "in_progress"),
                dialog=str(raw.get("dialog", "checkin")),
                version=int(raw.get("version", STATE_VERSION)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a dialog state: {exc}") from exc
        if state.outcome not in OUTCOMES or raw["language"] not in LANGUAGES:
            raise ValueError(f"not a dialog state: {raw!r}")
        return state


@dataclass(frozen=True)
class Step:
    """The result of one event.

    `opted_out` / `opted_in` are effects of this step (the caller records consent and sends
    nothing else after an opt-out confirmation); `outcome` is the check-in status after it
    (SPEC 5.5); `language` is the dialog's language after it, which the caller saves as the
    patient's preference when it changed.
    """

    state: DialogState
    outputs: tuple[Output, ...]
    findings: tuple[Finding, ...] = ()
    opted_out: bool = False
    opted_in: bool = False

    @property
    def outcome(self) -> Outcome:
        """Return the check-in status after this step."""
        return self.state.outcome

    @property
    def language(self) -> Lang:
        """Return the dialog's language after this step."""
        return self.state.language


# --- The step ---------------------------------------------------------------------------------


def step(dialog: Dialog, state: DialogState | None, event: Event, ctx: Context) -> Step:
    """Advance `dialog` by one event; pure: the same arguments always give the same Step."""
    if isinstance(event, Start):
        return _start(dialog, state, ctx)
    if state is None:  # no check-in is open: treat the event like a late reply
        state = DialogState(END, as_lang(ctx.language), _new_data(), True, outcome="confirmed")
    if isinstance(event, Timeout):
        return _no_input(dialog, state, ctx)
    reading = _read(dialog, event)
    state = _switch_language(state, reading.language)
    if state.done:
        return _after_end(dialog, state, reading, ctx)
    node = dialog.node(state.node)
    if node is None:  # saved by an older definition: let a person take it from here
        return _hand_off(dialog, state, None, reading, dialog.needs_human_kind, ctx)
    fallback = dialog.fallbacks.get(reading.intent)
    if fallback is not None:
        return _fallback(dialog, state, node, fallback, reading, ctx)
    return _answer(dialog, state, node, reading, ctx)


@dataclass(frozen=True)
class _Heard:
    """A reply as the engine uses it: its intent, the patient's words, and any recording."""

    intent: Intent
    words: str | None
    recording_url: str | None = None
    details: bool = False
    language: Lang | None = None
    free_text: bool = False  # typed or confidently spoken: usable as an answer in words


def _read(dialog: Dialog, reply: Reply) -> _Heard:
    """Turn a Reply into an intent, keeping the patient's words whole (outer spaces aside)."""
    url = reply.recording_url or None
    if reply.digits and not (reply.text or reply.speech):
        return _Heard(read_digits(reply.digits), reply.digits.strip(), url)
    if reply.speech and reply.speech.strip():
        words = reply.speech.strip()
        if reply.confidence is not None and reply.confidence < dialog.speech_threshold:
            return _Heard("unclear", words, url)
    elif reply.text and reply.text.strip():
        words = reply.text.strip()
    else:
        return _Heard("unclear", None, url)
    reading = read_text(words)
    # Text we cannot read (another script, only emoji) is still the patient's words.
    intent: Intent = "words" if reading.intent == "unclear" else reading.intent
    return _Heard(intent, words, url, reading.details, reading.language, free_text=True)


def _switch_language(state: DialogState, language: Lang | None) -> DialogState:
    return state if language is None else replace(state, language=language)


def _start(dialog: Dialog, state: DialogState | None, ctx: Context) -> Step:
    if state is None:
        fresh = DialogState(dialog.start, as_lang(ctx.language), _new_data(), dialog=dialog.name)
        node = dialog.node(dialog.start)
        assert node is not None  # checked by Dialog.__post_init__
        if ctx.channel == "sms":  # the first message carries question 1 (texts.first_message)
            return Step(fresh, (_ask(node, fresh, ctx, "first_message"),))
        return Step(fresh, (_say("intro", fresh, ctx), _ask(node, fresh, ctx)))
    if state.done:
        # Nothing may be sent to an opted-out patient; otherwise say the check-in is complete.
        outputs = () if state.data.get("opted_out") else (End(_text("already_done", state, ctx)),)
        return Step(state, outputs)
    node = dialog.node(state.node)
    if node is None:
        return _hand_off(dialog, state, None, _Heard("unclear", None), dialog.needs_human_kind, ctx)
    resumed = _at(state, node.id)
    if ctx.channel == "sms":
        return Step(resumed, (_ask(node, resumed, ctx, "reminder"),))
    return Step(resumed, (_say("intro", resumed, ctx), _ask(node, resumed, ctx)))


def _answer(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """Let the current node read a reply that no fallback took."""
    if node.expect is Expect.TEXT:
        if not (heard.free_text or heard.recording_url):
            return _not_understood(dialog, state, node, heard, ctx)
        return _advance(dialog, state, node, "text", node.then, [_finding(node, heard)], ctx)
    if heard.intent == "no":
        remark = [_remark(dialog, node, heard)] if heard.details else []
        return _advance(dialog, state, node, "no", node.no, remark, ctx)
    if heard.intent == "yes" and not heard.details:
        return _advance(dialog, state, node, "yes", node.yes, [], ctx)
    if heard.intent == "yes" or (node.expect is Expect.TEXT_OR_NO and heard.intent == "words"):
        # Words with the yes answer the details question too: record them, don't ask again.
        details = node if node.expect is Expect.TEXT_OR_NO else dialog.node(node.yes or "")
        if details is not None and details.expect is not Expect.YES_NO:
            return _advance(
                dialog, state, node, "yes", details.then, [_finding(details, heard)], ctx
            )
        return _advance(dialog, state, node, "yes", node.yes, [], ctx)
    return _not_understood(dialog, state, node, heard, ctx)


def _advance(
    dialog: Dialog,
    state: DialogState,
    node: Node,
    answer: str,
    to: str | None,
    findings: list[Finding],
    ctx: Context,
) -> Step:
    """Record `answer` at `node` and ask the next question, or close the dialog."""
    data = _raise(_with_answer(state.data, node.id, answer), findings)
    state = replace(state, data=data)
    target = dialog.node(to) if to is not None else None
    if target is None:
        return _close(state, findings, ctx)
    state = _at(state, target.id)
    return Step(state, (_ask(target, state, ctx),), tuple(findings))


def _close(state: DialogState, findings: list[Finding], ctx: Context) -> Step:
    """Say the closing confirmation with the pickup date; flagged if anything was raised."""
    flagged = _flagged(state.data)
    state = replace(_at(state, END), done=True, outcome="flagged" if flagged else "confirmed")
    closing = _text("closing_flagged" if flagged else "closing_confirmed", state, ctx)
    return Step(state, (End(closing),), tuple(findings))


def _fallback(
    dialog: Dialog,
    state: DialogState,
    node: Node,
    fallback: Fallback,
    heard: _Heard,
    ctx: Context,
) -> Step:
    if fallback.action is Action.OPT_OUT:
        return _opt_out(dialog, state, node, heard, ctx)
    if fallback.action is Action.HAND_OFF:
        kind = fallback.kind or dialog.needs_human_kind
        return _hand_off(dialog, state, node, heard, kind, ctx, fallback.priority, fallback.say)
    said: tuple[Output, ...] = (Say(_text("help", state, ctx)),)
    if fallback.action is not Action.HELP:
        said = ()
    opted_in = heard.intent == "start"
    if state.stalls >= dialog.max_stalls:  # HELP forever must still end the dialog
        result = _not_understood(dialog, state, node, heard, ctx)
        return replace(result, outputs=said + result.outputs, opted_in=opted_in)
    state = replace(state, stalls=state.stalls + 1)
    return Step(state, (*said, _ask(node, state, ctx)), opted_in=opted_in)


def _not_understood(
    dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context
) -> Step:
    """Re-ask with the expected answers spelled out; after `retries`, hand to a human."""
    failed = [*state.data.get("failed", []), {"text": heard.words, "url": heard.recording_url}]
    state = replace(state, data={**_copied(state.data), "failed": failed})
    if state.retries < dialog.retries:
        state = replace(state, retries=state.retries + 1)
        return Step(state, (_ask(node, state, ctx, "reask"),))
    texts_ = [f["text"] for f in failed if f["text"]]
    urls = [f["url"] for f in failed if f["url"]]
    everything = _Heard("unclear", "\n".join(texts_) or None, urls[-1] if urls else None)
    return _hand_off(dialog, state, node, everything, dialog.needs_human_kind, ctx)


def _hand_off(
    dialog: Dialog,
    state: DialogState,
    node: Node | None,
    heard: _Heard,
    kind: str,
    ctx: Context,
    priority: int = PRIORITY_NORMAL,
    say: str | None = None,
) -> Step:
    """Raise `kind` with the patient's words (and any pending details), then end."""
    findings = [*_pending(node), _finding(node, heard, kind, priority)]
    data = _raise(state.data, findings)
    state = replace(_at(state, state.node), data=data, done=True, outcome="flagged")
    closing = _text(say or "end_needs_human", state, ctx)
    return Step(state, (HandOff(kind), End(closing)), tuple(findings))


def _opt_out(
    dialog: Dialog, state: DialogState, node: Node | None, heard: _Heard, ctx: Context
) -> Step:
    """Confirm once, with no other content, and end; pending details are still kept."""
    findings = [*_pending(node), _finding(node, heard, dialog.opted_out_kind)]
    data = {**_raise(state.data, findings), "opted_out": True}
    # A completed check-in keeps its outcome: it was answered before the patient opted out.
    outcome: Outcome = state.outcome if state.done else "opted_out"
    state = replace(_at(state, state.node), data=data, done=True, outcome=outcome)
    return Step(state, (End(_text("opt_out", state, ctx)),), tuple(findings), opted_out=True)


def _no_input(dialog: Dialog, state: DialogState, ctx: Context) -> Step:
    """Re-ask once after a timeout, then end for now; the check-in stays open (in_progress).

    A details question is not re-asked: the yes is recorded without words and the dialog
    moves on, so the yes is not lost when the patient says nothing after the tone.
    """
    node = dialog.node(state.node)
    if state.done or node is None:
        return Step(state, ())
    if node.expect is Expect.TEXT:
        finding = replace(_finding(node, _Heard("unclear", None)), note="no details given")
        return _advance(dialog, state, node, "none", node.then, [finding], ctx)
    if state.timeouts < dialog.no_input_retries:
        state = replace(state, timeouts=state.timeouts + 1)
        return Step(state, (_ask(node, state, ctx, "noinput"),))
    return Step(_at(state, node.id), (End(_text("end_no_input", state, ctx)),))


def _after_end(dialog: Dialog, state: DialogState, heard: _Heard, ctx: Context) -> Step:
    """Handle a reply after the dialog ended: keywords act, a plain acknowledgement is only kept
    in the transcript, anything else becomes a finding (SPEC 6)."""
    if state.outcome == "in_progress":  # a finished dialog is never in progress
        state = replace(state, outcome="opted_out" if state.data.get("opted_out") else "confirmed")
    if heard.free_text and heard.words and is_acknowledgement(heard.words):
        # "ok", "thanks", "no": nothing to act on, and nothing to answer (opted out or not).
        return Step(state, ())
    if state.data.get("opted_out"):
        if heard.intent == "start":
            data = {**_copied(state.data), "opted_out": False}
            state = replace(state, data=data)
            return Step(state, (End(_text("opt_in", state, ctx)),), opted_in=True)
        if heard.intent == "stop":
            return Step(state, ())  # already out: at most one confirmation (SPEC 8)
        # Send nothing to an opted-out number, but keep the words for the pharmacist.
        finding = _finding(None, heard, dialog.late_kind)
        return Step(replace(state, data=_raise(state.data, [finding])), (), (finding,))
    if heard.intent == "stop":
        return _opt_out(dialog, state, None, heard, ctx)
    if heard.intent == "help":
        return Step(state, (Say(_text("help", state, ctx)),))
    if heard.intent == "start":
        return Step(state, (Say(_text("opt_in", state, ctx)),), opted_in=True)
    fallback = dialog.fallbacks.get(heard.intent)
    kind = dialog.late_kind
    priority = PRIORITY_NORMAL
    if fallback is not None and fallback.action is Action.HAND_OFF and fallback.kind:
        kind, priority = fallback.kind, fallback.priority  # "call me" is still a callback
    finding = _finding(None, heard, kind, priority)
    if not heard.words and not heard.recording_url:
        finding = replace(finding, note="reply without text")
    data = _raise(state.data, [finding])
    outcome: Outcome = "flagged" if state.outcome == "confirmed" else state.outcome
    state = replace(state, data=data, outcome=outcome)
    return Step(state, (End(_text("late_ack", state, ctx)),), (finding,))


# --- Small helpers ----------------------------------------------------------------------------


def _new_data() -> dict[str, Any]:
    return {"answers": {}, "failed": [], "raised": [], "opted_out": False}


def _at(state: DialogState, node_id: str) -> DialogState:
    """Move to `node_id` with fresh counters."""
    data = {**_copied(state.data), "failed": []}
    return replace(state, node=node_id, data=data, retries=0, timeouts=0, stalls=0)


def _copied(data: dict[str, Any]) -> dict[str, Any]:
    """Copy state data two levels deep: steps replace nested items and never change them."""
    return {
        key: value.copy() if isinstance(value, dict | list) else value
        for key, value in data.items()
    }


def _with_answer(data: dict[str, Any], node_id: str, answer: str) -> dict[str, Any]:
    return {**data, "answers": {**data.get("answers", {}), node_id: answer}}


def _raise(data: dict[str, Any], findings: list[Finding]) -> dict[str, Any]:
    return {**data, "raised": [*data.get("raised", []), *(f.kind for f in findings)]}


def _flagged(data: dict[str, Any]) -> bool:
    return any(kind != "opted_out" for kind in data.get("raised", []))


def _finding(
    node: Node | None,
    heard: _Heard,
    kind: str | None = None,
    priority: int | None = None,
) -> Finding:
    """Build a finding from the patient's words; a node gives its kind and priority."""
    return Finding(
        kind=kind or (node.kind if node and node.kind else "concern"),
        text=heard.words,
        recording_url=heard.recording_url,
        priority=priority if priority is not None else (node.priority if node else PRIORITY_NORMAL),
        node=node.id if node else None,
    )


def _remark(dialog: Dialog, node: Node, heard: _Heard) -> Finding:
    return _finding(node, heard, dialog.remark_kind, PRIORITY_NORMAL)


def _pending(node: Node | None) -> list[Finding]:
    """Return the finding a details node owes: its yes was given, its words were not."""
    if node is None or node.expect is not Expect.TEXT:
        return []
    return [replace(_finding(node, _Heard("unclear", None)), note="yes, no details given")]


def _text(key: str, state: DialogState, ctx: Context, question: str | None = None) -> str:
    return texts.render(key, ctx, language=state.language, question=question)


def _say(key: str, state: DialogState, ctx: Context) -> Say:
    return Say(_text(key, state, ctx))


def _ask(node: Node, state: DialogState, ctx: Context, key: str = "ask") -> AskYesNo | AskText:
    """Ask `node`'s question; by voice a "text or no" question is asked as yes/no first."""
    text = _text(key, state, ctx, question=node.id)
    if node.expect is Expect.YES_NO or (
        node.expect is Expect.TEXT_OR_NO and ctx.channel == "voice"
    ):
        return AskYesNo(text, node.id)
    return AskText(text, node.id)
