"""A small dialog engine with no I/O: dialogs declared as data, steps as pure functions.

`step(dialog, state, event, ctx)` takes the saved state and one event (Start, Reply, Timeout) and
returns a `Step`: the new state, channel-neutral outputs to render (SMS or TwiML, done by the
caller), findings for the pharmacist queue, the topic summary and the check-in outcome. The
caller persists the state (`DialogState.to_json`) and performs every effect; nothing here sends,
stores or reads a clock.

Every reply is read by `dialogs.reader` for *everything* it says (a yes or no, findings of any
topic, doubt, a question); then, in order:

1. after the dialog ended: a keyword is honoured, anything else worth reading becomes a finding;
2. an intent with a fallback (stop, help, start, person, unclear revocation) runs the fallback,
   whatever the question;
3. otherwise the node reads it (`_answer`): findings are recorded whatever was asked, and the
   answer moves the dialog on (a plain no, a bare yes, or the patient's words);
4. what is left is not understood: re-asked `retries` times with the answers spelled out, then
   handed to a human with every word. Doubt ("not sure") is never read as no.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Literal, TypeAlias, get_args

from dialogs import reader, texts
from dialogs.context import LANGUAGES, Context, Lang, as_lang
from dialogs.reader import TOPICS, Reading, Topic

# --- Events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Begin a check-in (state None), or resume an open one (a reminder, a new call)."""


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


@dataclass(frozen=True)
class TransferFailed:
    """Voice: the pharmacy's phone did not answer a transfer; the caller leaves a message."""


Event: TypeAlias = Start | Reply | Timeout | TransferFailed

# --- Outputs (rendered by the caller, in order) ------------------------------------------------


@dataclass(frozen=True)
class Say:
    """A statement (SMS: one message; voice: <Say>)."""

    text: str


@dataclass(frozen=True)
class AskYesNo:
    """A question answered by a key or a few words (voice: <Gather input="dtmf speech">)."""

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
class Transfer:
    """Voice only: connect the caller to the pharmacy's phone (<Dial>), after `text`."""

    text: str
    number: str


@dataclass(frozen=True)
class End:
    """The final words; the conversation (SMS exchange or call) is over."""

    text: str


Output: TypeAlias = Say | AskYesNo | AskText | HandOff | Transfer | End

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
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
PRIORITY_HIGH: Final = 1
PRIORITY_NORMAL: Final = 2
# Hospital stays and new conditions go to the top of the queue.
_TOPIC_PRIORITY: Final[dict[str, int]] = {"health_change": PRIORITY_HIGH}

TopicStatus: TypeAlias = Literal["reported", "none", "unanswered"]


@dataclass(frozen=True)
class Finding:
    """Something for the pharmacist: a queue item kind with the patient's own words.

    `text` is the patient's whole message (or every not-understood message, one per line);
    `node` is the question it answered; `note` explains a finding without words; `reason` says
    why the words were read as this kind ("read as a medication change because it says ...").
    """

    kind: Kind
    text: str | None
    recording_url: str | None
    priority: int = PRIORITY_NORMAL
    node: str | None = None
    note: str | None = None
    reason: str | None = None


# --- Declaring a dialog -----------------------------------------------------------------------

END: Final = "end"  # the node id that means "all questions answered": say the closing words
IDENTITY: Final = "identity"  # the first question of an outbound call: is this the patient?
CALLBACK_MESSAGE: Final = "callback_message"  # voice: a message left for a call back


class Expect(StrEnum):
    """What a node asks."""

    YES_NO = "yes_no"  # one topic, yes or no; words that report it answer it too
    TEXT = "text"  # the patient's words or a recording (the details after a yes)
    TEXT_OR_NO = "text_or_no"  # one topic: no, a bare yes (then details), or the words
    QUICK = "quick"  # every topic at once: no, a bare yes (then details), or the words
    MORE = "more"  # "anything else?": no, a bare yes (then details), or the words
    IDENTITY = "identity"  # voice: is this the patient? (1 yes, anything else no)


# Keypad answers where the node does not say otherwise: 1 yes, 2 no.
YES_NO_KEYS: Final[Mapping[str, str]] = {"1": "yes", "2": "no"}
# "Press 1 if nothing has changed, 2 to tell us."
NOTHING_NEW_KEYS: Final[Mapping[str, str]] = {"1": "no", "2": "yes"}
# Every node: 0 a pharmacist, 9 opt out.
GLOBAL_KEYS: Final[Mapping[str, str]] = {"0": "person", "9": "stop"}


@dataclass(frozen=True)
class Node:
    """One question: what it expects, where each answer goes, what topic its words report.

    The node's id is also the key of its question in the text tables.
    """

    id: str
    expect: Expect
    topic: Topic | None = None  # the topic asked; a TEXT node's words report it
    kind: Kind | None = None  # a TEXT node's finding when it is not a topic (a message left)
    yes: str | None = None  # next node after a bare yes
    no: str | None = None  # next node after no
    then: str | None = None  # next node after words (the details, or a report)
    keys: Mapping[str, str] = field(default_factory=lambda: YES_NO_KEYS)

    @property
    def finding_kind(self) -> Kind:
        """What a TEXT node's words raise: its kind, its topic, or a concern."""
        return self.kind or self.topic or "concern"


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
    kind: Kind | None = None
    priority: int = PRIORITY_NORMAL
    say: str | None = None  # text key of the closing words of a hand-off


@dataclass(frozen=True)
class Dialog:
    """A dialog as data: nodes, fallbacks, and how patient the engine is."""

    name: str
    start: str
    nodes: tuple[Node, ...]
    fallbacks: Mapping[str, Fallback]
    retries: int = 1  # re-asks after a reply that is not understood, then `needs_human`
    no_input_retries: int = 1  # re-asks after a timeout, then end (the check-in stays open)
    max_stalls: int = 2  # helps, starts and side remarks per node before they count as unclear
    speech_threshold: float = 0.5  # speech below this confidence is not understood

    def __post_init__(self) -> None:
        ids = {node.id for node in self.nodes}
        targets = {t for n in self.nodes for t in (n.yes, n.no, n.then) if t is not None}
        if self.start not in ids or not targets <= ids | {END}:
            raise ValueError(f"dialog {self.name}: unknown node in {sorted(targets - ids)}")
        for node in self.nodes:
            if node.expect is Expect.TEXT and node.then is None:
                raise ValueError(f"dialog {self.name}: {node.id} needs a next node")
            if node.expect in (Expect.YES_NO, Expect.TEXT_OR_NO) and node.topic is None:
                raise ValueError(f"dialog {self.name}: {node.id} needs a topic")
            if node.expect is not Expect.TEXT and (node.no is None or node.yes is None):
                raise ValueError(f"dialog {self.name}: {node.id} needs a next node for yes/no")

    def node(self, node_id: str) -> Node | None:
        """Return the node called `node_id`, if the dialog has one."""
        return next((n for n in self.nodes if n.id == node_id), None)


# --- State and result -------------------------------------------------------------------------

Outcome: TypeAlias = Literal["in_progress", "confirmed", "flagged", "opted_out"]
OUTCOMES: Final[tuple[str, ...]] = get_args(Outcome)
STATE_VERSION: Final = 2


def _deep_copied(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, tuples of scalars): what `copy.deepcopy`
    makes of one, at an eighth of its cost (no memo; every reply copies the state twice)."""
    if isinstance(value, dict):
        return {key: _deep_copied(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_deep_copied(item) for item in value)
    return value


@dataclass(frozen=True)
class DialogState:
    """Where a conversation stands; saved as JSON between steps.

    `data` holds "answers" (node -> "yes" / "no" / "text" / "none"), "topics" (topic ->
    "reported" / "none" / "unanswered"), "failed" (the replies not understood at the current
    node), "raised" (kinds of findings so far), "opted_out" and "replied" (the patient has
    answered at least once). `retries`, `timeouts` and `stalls` count at the current node.
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

    @property
    def topics(self) -> dict[str, TopicStatus]:
        """The check-in summary: each topic reported, answered none, or not answered yet."""
        saved = self.data.get("topics", {})
        return {topic: saved.get(topic, "unanswered") for topic in TOPICS}

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
            "data": _deep_copied(self.data),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DialogState:
        """Rebuild a state from `to_json` output; raise ValueError if it is not one."""
        try:
            state = cls(
                node=str(raw["node"]),
                language=as_lang(str(raw["language"])),
                data=_deep_copied(dict(raw.get("data", {}))),
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
    patient's preference when it changed; `topics` is the check-in summary after it.
    """

    state: DialogState
    outputs: tuple[Output, ...]
    findings: tuple[Finding, ...] = ()
    opted_out: bool = False
    opted_in: bool = False
    delivery: Literal["delivery", "pickup"] | None = None  # the patient chose (SPEC 13)

    @property
    def outcome(self) -> Outcome:
        """Return the check-in status after this step."""
        return self.state.outcome

    @property
    def language(self) -> Lang:
        """Return the dialog's language after this step."""
        return self.state.language

    @property
    def topics(self) -> dict[str, TopicStatus]:
        return self.state.topics


# --- The step ---------------------------------------------------------------------------------


def step(dialog: Dialog, state: DialogState | None, event: Event, ctx: Context) -> Step:
    """Advance `dialog` by one event; pure: the same arguments always give the same Step."""
    if isinstance(event, Start):
        return _start(dialog, state, ctx)
    if state is None:  # no check-in is open: treat the event like a late reply
        state = DialogState(
            END, as_lang(ctx.language), _new_data(), True, outcome="confirmed", dialog=dialog.name
        )
    if isinstance(event, Timeout):
        return _no_input(dialog, state, ctx)
    if isinstance(event, TransferFailed):
        return _take_message(dialog, state, ctx, "transfer_failed")
    node = dialog.node(state.node)
    heard = _read(dialog, event, node)
    state = _switch_language(state, heard.reading.language)
    if state.done:
        return _after_end(dialog, state, heard, ctx)
    if node is None:  # saved by an older definition: let a person take it from here
        return _hand_off(dialog, state, None, heard, "needs_human", ctx)
    return _reply(dialog, state, node, heard, ctx)


def _reply(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """A reply at an open question: a choice of delivery, a fallback, or the node's answer."""
    if node.expect is not Expect.IDENTITY:  # whoever answered the phone has not replied yet
        state = replace(state, data={**state.data, "replied": True})
    choice = heard.reading.delivery
    if choice is not None and node.expect is not Expect.IDENTITY:
        result = _answer_with_choice(dialog, state, node, heard, ctx, choice)
        return replace(result, delivery=choice)
    fallback = dialog.fallbacks.get(heard.intent)
    if node.kind is not None and heard.intent != "stop":
        fallback = None  # a message being left: whatever it says is the message
    if fallback is not None:
        return _fallback(dialog, state, node, fallback, heard, ctx)
    if node.expect is Expect.IDENTITY:
        return _identity(dialog, state, node, heard, ctx)
    if heard.intent == "who":
        # Say who we are and ask again; the question itself still reaches the pharmacist.
        asked = [replace(_finding(node, heard, "concern"), reason="a question about who texted")]
        return _stall(dialog, state, node, heard, ctx, say="who", findings=asked)
    return _answer(dialog, state, node, heard, ctx)


@dataclass(frozen=True)
class _Heard:
    """A reply as the engine uses it: what the reader made of it, the words, any recording."""

    reading: Reading
    words: str | None
    recording_url: str | None = None
    key: str | None = None  # the key pressed, when the answer was a keypress

    @property
    def intent(self) -> str:
        return self.reading.intent

    @property
    def has_words(self) -> bool:
        return bool(self.words) and self.key is None


_UNCLEAR: Final = Reading()


def _read(dialog: Dialog, reply: Reply, node: Node | None) -> _Heard:
    """Turn a Reply into a Reading, keeping the patient's words whole (outer spaces aside)."""
    url = reply.recording_url or None
    if reply.digits and not (reply.text or reply.speech):
        key = reply.digits.strip()
        meaning = GLOBAL_KEYS.get(key) or (node.keys if node else YES_NO_KEYS).get(key)
        if meaning in ("person", "stop"):
            return _Heard(Reading(intent=meaning), key, url, key=key)  # type: ignore[arg-type]
        answer = meaning if meaning in ("yes", "no") else None
        return _Heard(Reading(answer=answer), key, url, key=key)  # type: ignore[arg-type]
    if reply.speech and reply.speech.strip():
        words = reply.speech.strip()
        if reply.confidence is not None and reply.confidence < dialog.speech_threshold:
            return _Heard(_UNCLEAR, words, url)
    elif reply.text and reply.text.strip():
        words = reply.text.strip()
    else:
        return _Heard(_UNCLEAR, None, url)
    return _Heard(reader.read(words), words, url)


def _switch_language(state: DialogState, language: Lang | None) -> DialogState:
    return state if language is None else replace(state, language=language)


def _start(dialog: Dialog, state: DialogState | None, ctx: Context) -> Step:
    if state is None:
        fresh = DialogState(dialog.start, as_lang(ctx.language), _new_data(), dialog=dialog.name)
        return _opening(dialog, fresh, ctx, first=True)
    if state.done:
        # Nothing may be sent to an opted-out patient; otherwise say the check-in is complete.
        outputs = () if state.data.get("opted_out") else (End(_text("already_done", state, ctx)),)
        return Step(state, outputs)
    if dialog.node(state.node) is None:
        heard = _Heard(_UNCLEAR, None)
        return _hand_off(dialog, state, None, heard, "needs_human", ctx)
    return _opening(dialog, state, ctx, first=False)


def _opening(dialog: Dialog, state: DialogState, ctx: Context, *, first: bool) -> Step:
    """The first words of a text, a reminder or a call, with the question to answer now."""
    resume = state.node if state.node != IDENTITY else dialog.start
    if ctx.channel == "sms":
        node = dialog.node(resume)
        assert node is not None  # checked by the callers
        state = _at(state, node.id)
        return Step(state, (_ask(node, state, ctx, "first_message" if first else "reminder"),))
    if ctx.inbound_call:
        node = dialog.node(resume)
        assert node is not None
        state = _at(state, node.id)
        return Step(state, (_say("intro_inbound", state, ctx), _ask(node, state, ctx)))
    # An outbound call: who answered? Nothing about refills until the patient says it is them.
    identity = dialog.node(IDENTITY)
    if identity is None:
        node = dialog.node(resume)
        assert node is not None
        return Step(_at(state, node.id), (_say("intro", state, ctx), _ask(node, state, ctx)))
    state = _at(replace(state, data={**state.data, "resume": resume}), IDENTITY)
    return Step(state, (_ask(identity, state, ctx),))


def _identity(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """Voice: the patient confirmed it is them (1 or yes), or someone else answered."""
    if heard.reading.answer == "yes" and not heard.reading.findings:
        target = dialog.node(state.data.get("resume") or dialog.start) or dialog.node(dialog.start)
        assert target is not None
        state = _at(state, target.id)
        return Step(state, (_say("intro", state, ctx), _ask(target, state, ctx)))
    if heard.reading.answer is None and state.retries < dialog.retries:
        state = replace(state, retries=state.retries + 1)
        return Step(state, (_ask(node, state, ctx, "reask"),))
    # Not the patient: the pharmacy name and number only, and the check-in stays open.
    return Step(_at(state, IDENTITY), (End(_text("wrong_person", state, ctx)),))


def _answer_with_choice(
    dialog: Dialog,
    state: DialogState,
    node: Node,
    heard: _Heard,
    ctx: Context,
    choice: str,
) -> Step:
    """ "Deliver please" (or "I'll pick up"): noted; if that is all the reply says, the
    question is asked again, else the rest of the reply is read as usual."""
    reading = heard.reading
    rest = reading.findings or reading.answer is not None or reading.intent != "answer"
    if not rest:
        return _stall(dialog, state, node, heard, ctx, say=f"{choice}_noted")
    fallback = dialog.fallbacks.get(heard.intent)
    if fallback is not None:
        return _fallback(dialog, state, node, fallback, heard, ctx)
    return _answer(dialog, state, node, heard, ctx)


def _answer(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """Let the current node read a reply that no fallback took."""
    if node.expect is Expect.TEXT:
        return _details(dialog, state, node, heard, ctx)
    if node.expect is Expect.QUICK:
        return _quick(dialog, state, node, heard, ctx)
    if node.expect is Expect.MORE:
        return _more(dialog, state, node, heard, ctx)
    return _topic_question(dialog, state, node, heard, ctx)


def _quick(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """Every topic in one question: a plain no confirms, words are read for every finding."""
    reading = heard.reading
    found = _findings_of(heard, node)
    if found:
        only_a_question = reading.question and reading.topics == ("concern",)
        if only_a_question and state.stalls < dialog.max_stalls:
            # A question answers none of the topics: note it, and ask them again.
            return _stall(dialog, state, node, heard, ctx, say="question_noted", findings=found)
        state = _record(state, found)
        if reading.answer == "no" or reading.denied:
            # "No changes, but I need my inhaler": the no covers the rest.
            return _close(_mark_rest(state, "none"), found, ctx)
        return _advance(dialog, state, node, "text", node.then, found, ctx)
    if reading.plain_no:
        return _close(_mark_rest(_with_answer(state, node.id, "no"), "none"), [], ctx)
    if reading.answer == "no" and reading.remark and not reading.uncertain:
        # "No. My feet have been tingling": a no, and words for the pharmacist.
        found = [_finding(node, heard, "concern")]
        return _close(_mark_rest(_record(state, found), "none"), found, ctx)
    if reading.plain_yes:
        return _advance(dialog, state, node, "yes", node.yes, [], ctx)
    if _only_words(heard):
        found = [_finding(node, heard, "concern")]
        return _advance(dialog, _record(state, found), node, "text", node.then, found, ctx)
    return _not_understood(dialog, state, node, heard, ctx)


def _more(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """'Anything else?': asked once; no, thanks or more words close the check-in."""
    reading = heard.reading
    words = [_finding(node, heard, "concern")] if _only_words(heard) else []
    found = _findings_of(heard, node) or words
    if found:
        return _close(_mark_rest(_record(state, found), "none"), found, ctx)
    if reading.plain_no or reading.ack or reading.emoji_answer is not None:
        return _close(_mark_rest(_with_answer(state, node.id, "no"), "none"), [], ctx)
    if reading.plain_yes:
        return _advance(dialog, state, node, "yes", node.yes, [], ctx)
    return _not_understood(dialog, state, node, heard, ctx)


def _topic_question(
    dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context
) -> Step:
    """One topic, asked yes or no; words that report anything are kept whatever was asked."""
    assert node.topic is not None
    reading = heard.reading
    answer = reading.answer or (reading.emoji_answer if not reading.substantive else None)
    found = _findings_of(heard, node)
    if found:
        state = _record(state, found)
        if node.topic in reading.topics or answer == "yes":
            return _advance(dialog, state, node, "text", _after_details(dialog, node), found, ctx)
        if answer == "no" or node.topic in reading.denied:
            state = _with_topic(state, node.topic, "none")
            return _advance(dialog, state, node, "no", node.no, found, ctx)
        if state.stalls < dialog.max_stalls:  # a report of something else: ask this again
            return _stall(
                dialog, state, node, heard, ctx, say="noted", findings=found, record=False
            )
        return _advance(dialog, state, node, "text", node.no, found, ctx)
    if answer == "no" and not reading.uncertain and not reading.question:
        extra = [_finding(node, heard, "concern")] if reading.remark else []
        state = _with_topic(_record(state, extra), node.topic, "none")
        return _advance(dialog, state, node, "no", node.no, extra, ctx)
    if answer == "yes" and not reading.substantive and not reading.uncertain:
        return _advance(dialog, state, node, "yes", node.yes, [], ctx)
    if _only_words(heard) or (answer == "yes" and reading.substantive):
        # Words given at a yes/no question are that topic's details.
        found = [_finding(node, heard, node.topic)]
        state = _record(state, found)
        return _advance(dialog, state, node, "text", _after_details(dialog, node), found, ctx)
    return _not_understood(dialog, state, node, heard, ctx)


def _details(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """The words after a yes: what they report, and at least the topic the yes was about."""
    found = _findings_of(heard, node)
    if heard.reading.plain_no and node.kind is None:
        # "Nothing really", "nevermind, no changes": the yes is taken back.
        state = _with_answer(state, node.id, "no")
        if node.topic is None:
            return _close(_mark_rest(state, "none"), [], ctx)
        state = _with_topic(state, node.topic, "none")
        return _advance(dialog, state, node, "no", node.then, [], ctx)
    if not found and node.topic is None and node.kind is None and heard.reading.mentions_medicine:
        # "What's new?" "The water pill": a medicine named is a medication change.
        found = [replace(_finding(node, heard, "med_change"), reason="names a medicine")]
    if node.kind is not None:  # a message for a call back: whatever it says, it is that
        found = [_finding(node, heard, node.kind)] if heard.recording_url or heard.words else []
        if not found:
            return _no_input(dialog, state, ctx)
    elif node.topic is not None and node.topic not in {f.kind for f in found}:
        if found or heard.recording_url or _detail_words(heard) or heard.reading.answer == "no":
            found.insert(0, _finding(node, heard, node.topic))
    elif not found and (heard.recording_url or _detail_words(heard)):
        found = [_finding(node, heard, "concern")]
    if not found:
        return _not_understood(dialog, state, node, heard, ctx)
    return _advance(dialog, _record(state, found), node, "text", node.then, found, ctx)


def _after_details(dialog: Dialog, node: Node) -> str | None:
    """Where a yes that came with its details goes: past the details question."""
    details = dialog.node(node.yes or "")
    if details is not None and details.expect is Expect.TEXT:
        return details.then
    return node.no


def _findings_of(heard: _Heard, node: Node | None = None) -> list[Finding]:
    """One finding per topic the reader found, with the words and the reason."""
    priority_of = _TOPIC_PRIORITY.get
    note = "the patient is not sure" if heard.reading.uncertain else None
    return [
        Finding(
            kind=cue.topic,
            text=heard.words,
            recording_url=heard.recording_url,
            priority=priority_of(cue.topic, PRIORITY_NORMAL),
            node=node.id if node else None,
            note=note,
            reason=cue.explain(),
        )
        for cue in heard.reading.findings
    ]


def _detail_words(heard: _Heard) -> bool:
    """At a details question any real words count ("Lisinopril"), not "ok" or "not sure"."""
    reading = heard.reading
    return (
        heard.has_words
        and not reading.ack
        and (not reading.uncertain or reading.substantive)
        and (reading.answer is None or reading.substantive)
    )


def _carry_unread(state: DialogState, findings: list[Finding]) -> tuple[DialogState, list[Finding]]:
    """Keep the words of replies we asked again about, once the dialog moves past them.

    "Lasix" (not understood) and then "no" must not lose "Lasix": it goes to the pharmacist as
    a concern. Doubt, thanks and smileys asked about again are not kept: the answer settled them.
    """
    failed = [f["text"] for f in state.data.get("failed", []) if f.get("text")]
    kept = [text for text in failed if _worth_keeping(reader.read(text))]
    if not failed:
        return state, findings
    state = replace(state, data={**state.data, "failed": []})
    if not kept:
        return state, findings
    carried = Finding(
        kind="concern",
        text="\n".join(kept),
        recording_url=None,
        note="not understood at first; the patient then answered the question again",
    )
    return _record(state, [carried]), [carried, *findings]


def _worth_keeping(reading: Reading) -> bool:
    if reading.intent != "answer" or reading.ack:
        return False
    if reading.uncertain and not reading.findings:
        return False
    return bool(reading.words) and any(w.isalpha() and len(w) > 2 for w in reading.words)


def _only_words(heard: _Heard) -> bool:
    """Words worth a pharmacist's look that no cue filed: kept rather than asked again."""
    reading = heard.reading
    return heard.has_words and reading.substantive and not reading.uncertain


def _stall(
    dialog: Dialog,
    state: DialogState,
    node: Node,
    heard: _Heard,
    ctx: Context,
    *,
    say: str,
    findings: list[Finding] | None = None,
    record: bool = True,
) -> Step:
    """Say `say`, keep any findings, and ask the same question again (counted as a stall)."""
    found = findings or []
    if record:
        state = _record(state, found)
    state = replace(state, stalls=state.stalls + 1)
    return Step(state, (_ask(node, state, ctx, say),), tuple(found))


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
    state, findings = _carry_unread(state, findings)
    state = _with_answer(state, node.id, answer)
    if node.topic is not None and answer != "yes":
        reported = node.topic in _raised(state)
        state = _with_topic(state, node.topic, "reported" if reported else "none")
        if answer == "text" and not reported:
            state = _with_topic(state, node.topic, "unanswered")
    target = dialog.node(to) if to is not None else None
    if target is None:
        return _close(state, findings, ctx)
    state = _at(state, target.id)
    return Step(state, (_ask(target, state, ctx),), tuple(findings))


def _close(state: DialogState, findings: list[Finding], ctx: Context) -> Step:
    """Say the closing words with the pickup date; flagged if anything was raised."""
    state, findings = _carry_unread(state, findings)
    flagged = any(kind != "opted_out" for kind in _raised(state))
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
        kind = fallback.kind or "needs_human"
        if kind == "callback_request" and ctx.channel == "voice":
            if ctx.pharmacy_open:
                return _transfer(dialog, state, node, heard, ctx)
            if dialog.node(CALLBACK_MESSAGE) is not None:
                owed = _pending(node)
                return _take_message(dialog, _record(state, owed), ctx, "closed_message", owed)
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


def _transfer(dialog: Dialog, state: DialogState, node: Node, heard: _Heard, ctx: Context) -> Step:
    """Voice in opening hours: put the caller through to the pharmacy.

    The check-in stays where it was: the caller's questions are the pharmacist's now, and if
    nobody answers the phone the caller leaves a message (the caller's Dial action).
    """
    findings = _pending(node)
    state = _record(state, findings)
    number = ctx.transfer_number or ctx.pharmacy_phone
    return Step(state, (Transfer(_text("transfer", state, ctx), number),), tuple(findings))


def _take_message(
    dialog: Dialog,
    state: DialogState,
    ctx: Context,
    say: str,
    findings: list[Finding] | None = None,
) -> Step:
    """Voice: the pharmacy cannot take the call now; record a message for a call back."""
    node = dialog.node(CALLBACK_MESSAGE)
    if node is None:
        return Step(state, (End(_text("end_callback", state, ctx)),), tuple(findings or ()))
    state = _at(replace(state, data={**state.data, "resume": state.node}), node.id)
    return Step(state, (_ask(node, state, ctx, say),), tuple(findings or ()))


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
    everything = _Heard(_UNCLEAR, "\n".join(texts_) or None, urls[-1] if urls else None)
    return _hand_off(dialog, state, node, everything, "needs_human", ctx)


def _hand_off(
    dialog: Dialog,
    state: DialogState,
    node: Node | None,
    heard: _Heard,
    kind: Kind,
    ctx: Context,
    priority: int = PRIORITY_NORMAL,
    say: str | None = None,
) -> Step:
    """Raise `kind` with the patient's words (and any pending details), then end."""
    findings = [*_pending(node), _finding(node, heard, kind, priority)]
    if kind != "needs_human":  # a needs_human item already holds every word not understood
        state, findings = _carry_unread(state, findings)
    state = _record(state, findings)
    state = replace(_at(state, state.node), done=True, outcome="flagged")
    closing = _text(say or "end_needs_human", state, ctx)
    return Step(state, (HandOff(kind), End(closing)), tuple(findings))


def _opt_out(
    dialog: Dialog, state: DialogState, node: Node | None, heard: _Heard, ctx: Context
) -> Step:
    """Confirm once, with no other content, and end; pending details are still kept."""
    state, findings = _carry_unread(state, [*_pending(node), _finding(node, heard, "opted_out")])
    data = {**_record(state, findings).data, "opted_out": True}
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
        note = "no message left" if node.kind else "no details given"
        finding = replace(_finding(node, _Heard(_UNCLEAR, None), node.finding_kind), note=note)
        return _advance(dialog, _record(state, [finding]), node, "none", node.then, [finding], ctx)
    if state.timeouts < dialog.no_input_retries:
        state = replace(state, timeouts=state.timeouts + 1)
        return Step(state, (_ask(node, state, ctx, "noinput"),))
    closing = "wrong_person" if node.expect is Expect.IDENTITY else "end_no_input"
    return Step(_at(state, node.id), (End(_text(closing, state, ctx)),))


def nothing_to_file(dialog: Dialog, reply: Reply) -> bool:
    """True for a reply after the end that says nothing new ("thanks", "ok", "no", a smiley):
    it stays in the transcript, raises no item and gets no answer."""
    return _nothing_to_file(_read(dialog, reply, None))


# Replies after the end that say nothing new: no item, and only a keyword gets an answer.
def _nothing_to_file(heard: _Heard) -> bool:
    reading = heard.reading
    return (
        not reading.findings
        and not heard.recording_url
        and not reading.substantive
        and not reading.uncertain
        and reading.intent == "answer"
        and (reading.ack or reading.answer is not None or reading.emoji_answer is not None)
    )


def _after_end(dialog: Dialog, state: DialogState, heard: _Heard, ctx: Context) -> Step:
    """Handle a reply after the dialog ended: keywords act, anything worth reading is kept."""
    if state.outcome == "in_progress":  # a finished dialog is never in progress
        state = replace(state, outcome="opted_out" if state.data.get("opted_out") else "confirmed")
    if state.data.get("opted_out"):
        if heard.intent == "start":
            data = {**_copied(state.data), "opted_out": False}
            state = replace(state, data=data)
            return Step(state, (End(_text("opt_in", state, ctx)),), opted_in=True)
        if heard.intent == "stop" or _nothing_to_file(heard):
            return Step(state, ())  # already out: at most one confirmation (SPEC 8)
        # Send nothing to an opted-out number, but keep the words for the pharmacist.
        finding = _late_finding(heard)
        return Step(_record(state, [finding]), (), (finding,))
    if heard.intent == "stop":
        return _opt_out(dialog, state, None, heard, ctx)
    if heard.intent == "help":
        return Step(state, (Say(_text("help", state, ctx)),))
    if heard.intent == "start":
        return Step(state, (Say(_text("opt_in", state, ctx)),), opted_in=True)
    if heard.reading.delivery is not None and not heard.reading.findings:
        choice = heard.reading.delivery
        return Step(state, (End(_text(f"{choice}_ack", state, ctx)),), delivery=choice)
    if _nothing_to_file(heard):
        return Step(state, ())  # "thanks!" after the closing words: nothing to answer
    findings = [_late_finding(heard)]
    fallback = dialog.fallbacks.get(heard.intent)
    if fallback is not None and fallback.action is Action.HAND_OFF and fallback.kind:
        # "Call me" is still a callback.
        findings = [replace(findings[0], kind=fallback.kind, priority=fallback.priority)]
    state = _record(state, findings)
    outcome: Outcome = "flagged" if state.outcome == "confirmed" else state.outcome
    state = replace(state, outcome=outcome)
    return Step(state, (End(_text("late_ack", state, ctx)),), tuple(findings))


def _late_finding(heard: _Heard) -> Finding:
    """A reply with no question open is a concern (SPEC 6); the reader says what it is about."""
    found = _findings_of(heard)
    finding = _finding(None, heard, "concern")
    if found:
        finding = replace(finding, reason="; ".join(f.reason or "" for f in found))
    if not heard.words and not heard.recording_url:
        finding = replace(finding, note="reply without text")
    return finding


# --- Small helpers ----------------------------------------------------------------------------


def _new_data() -> dict[str, Any]:
    return {
        "answers": {},
        "topics": {topic: "unanswered" for topic in TOPICS},
        "failed": [],
        "raised": [],
        "opted_out": False,
    }


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


def _with_answer(state: DialogState, node_id: str, answer: str) -> DialogState:
    answers = {**state.data.get("answers", {}), node_id: answer}
    return replace(state, data={**state.data, "answers": answers})


def _with_topic(state: DialogState, topic: str, status: TopicStatus) -> DialogState:
    topics = {**state.data.get("topics", {}), topic: status}
    return replace(state, data={**state.data, "topics": topics})


def _mark_rest(state: DialogState, status: TopicStatus) -> DialogState:
    """Every topic not reported yet gets `status` (a no that covers the rest)."""
    topics = {t: ("reported" if s == "reported" else status) for t, s in state.topics.items()}
    return replace(state, data={**state.data, "topics": topics})


def _record(state: DialogState, findings: list[Finding]) -> DialogState:
    """Note the findings' kinds as raised and their topics as reported."""
    if not findings:
        return state
    raised = [*state.data.get("raised", []), *(f.kind for f in findings)]
    topics = dict(state.topics)
    for finding in findings:
        if finding.kind in topics:
            topics[finding.kind] = "reported"
    return replace(state, data={**state.data, "raised": raised, "topics": topics})


def _raised(state: DialogState) -> list[str]:
    return list(state.data.get("raised", []))


def _finding(
    node: Node | None,
    heard: _Heard,
    kind: Kind,
    priority: int | None = None,
) -> Finding:
    """Build a finding from the patient's words (keypresses are not words: see the caller)."""
    return Finding(
        kind=kind,
        text=heard.words if heard.key is None else None,
        recording_url=heard.recording_url,
        priority=priority if priority is not None else _TOPIC_PRIORITY.get(kind, PRIORITY_NORMAL),
        node=node.id if node else None,
        note=f"pressed {heard.key}" if heard.key is not None else None,  # see describe_keypress
    )


def _pending(node: Node | None) -> list[Finding]:
    """Return the finding a details node owes: its yes was given, its words were not."""
    if node is None or node.expect is not Expect.TEXT:
        return []
    note = "asked for a call back, no message left" if node.kind else "yes, no details given"
    return [replace(_finding(node, _Heard(_UNCLEAR, None), node.finding_kind), note=note)]


def _text(key: str, state: DialogState, ctx: Context, question: str | None = None) -> str:
    return texts.render(key, ctx, language=state.language, question=question)


def _say(key: str, state: DialogState, ctx: Context) -> Say:
    return Say(_text(key, state, ctx))


def _ask(node: Node, state: DialogState, ctx: Context, key: str = "ask") -> AskYesNo | AskText:
    """Ask `node`'s question: words by SMS, keys or a few words by voice (details recorded)."""
    text = _text(key, state, ctx, question=node.id)
    if node.expect is Expect.TEXT or (ctx.channel == "sms" and node.expect is not Expect.YES_NO):
        return AskText(text, node.id)
    return AskYesNo(text, node.id)


_KEY_MEANINGS: Final[Mapping[str, str]] = {
    "person": "asked for a pharmacist",
    "stop": "asked to stop the calls",
    "yes": "yes",
    "no": "no",
}


def ask_again(dialog: Dialog, state: DialogState, ctx: Context) -> Step:
    """The question the conversation is at, asked again as it is (a repeated voice action)."""
    node = dialog.node(state.node)
    if state.done or node is None:
        return Step(state, ())
    return Step(state, (_ask(node, state, ctx),))


def describe_keypress(dialog: Dialog, node_id: str | None, digits: str) -> str:
    """Say in words what a keypress meant at a question, for staff: "pressed 0: asked for a
    pharmacist", "pressed 1: nothing has changed"."""
    key = digits.strip()
    node = dialog.node(node_id or "")
    meaning = GLOBAL_KEYS.get(key) or (node.keys if node else YES_NO_KEYS).get(key)
    if meaning is None:
        return f"pressed {key}: not one of the choices"
    if node is not None and node.keys is NOTHING_NEW_KEYS and meaning in ("yes", "no"):
        words = "nothing has changed" if meaning == "no" else "wants to tell us something"
        if node.expect is Expect.MORE:
            words = "nothing else" if meaning == "no" else "wants to tell us something else"
        return f"pressed {key}: {words}"
    if node is not None and node.expect is Expect.IDENTITY and meaning in ("yes", "no"):
        return f"pressed {key}: {'this is the patient' if meaning == 'yes' else 'not the patient'}"
    return f"pressed {key}: {_KEY_MEANINGS[meaning]}"
