"""The refill check-in (SPEC 6) declared as data, in the two forms a store chooses.

quick (the default): one question names every topic; a plain no confirms in one reply.

    quick --no--> closing
    quick --words--> quick_more ("anything else?") --> closing
    quick --bare yes--> quick_details ("what's new?") --> quick_more --> closing

full: the five topics one by one, each yes/no with one request for details after a yes.

    med_change -> adherence -> prn_need -> health_change -> concern -> closing

Both read every reply for every finding (dialogs/reader.py), whatever was asked: "I stopped my
metformin" answers "any changes?" and "no changes, but I was in the ER" is a hospital stay.
By voice an outbound call first asks for the patient by name (`identity`); keys are 1 and 2
(on the quick form's questions 1 is "nothing has changed"), 0 a pharmacist, 9 opt out.
Fallbacks work on every question: opt-out words and clear revocations opt out; HELP answers the
help text and asks again; START asks again; a request for a person raises callback_request (by
voice in opening hours: puts the caller through); an ambiguous revocation goes to a human (high
priority, the patient may want out) and tells the patient how to opt out. The diagrams in
docs/checkin.mmd are generated from these declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

from dialogs.engine import (
    CALLBACK_MESSAGE,
    END,
    IDENTITY,
    NOTHING_NEW_KEYS,
    PRIORITY_HIGH,
    Action,
    Dialog,
    Expect,
    Fallback,
    Node,
)

Form: TypeAlias = Literal["quick", "full"]
FORMS: Final[tuple[Form, ...]] = ("quick", "full")

_FALLBACKS: Final[Mapping[str, Fallback]] = {
    "stop": Fallback(Action.OPT_OUT),
    "help": Fallback(Action.HELP),
    "start": Fallback(Action.REASK),
    "person": Fallback(Action.HAND_OFF, kind="callback_request", say="end_callback"),
    "maybe_stop": Fallback(
        Action.HAND_OFF, kind="needs_human", priority=PRIORITY_HIGH, say="end_maybe_stop"
    ),
}


def _identity(first: str) -> Node:
    # yes/no only route the node; the engine reads the answer itself (`_identity`).
    return Node(IDENTITY, Expect.IDENTITY, yes=first, no=END)


# Voice, outside opening hours or when nobody picks up: a message for the pharmacist.
_CALLBACK_MESSAGE: Final = Node(CALLBACK_MESSAGE, Expect.TEXT, kind="callback_request", then=END)


CHECKIN_QUICK: Final = Dialog(
    name="checkin_quick",
    start="quick",
    nodes=(
        _identity("quick"),
        Node(
            "quick",
            Expect.QUICK,
            yes="quick_details",
            no=END,
            then="quick_more",
            keys=NOTHING_NEW_KEYS,
        ),
        Node("quick_details", Expect.TEXT, then="quick_more"),
        Node(
            "quick_more",
            Expect.MORE,
            yes="quick_more_details",
            no=END,
            then=END,
            keys=NOTHING_NEW_KEYS,
        ),
        Node("quick_more_details", Expect.TEXT, then=END),
        _CALLBACK_MESSAGE,
    ),
    fallbacks=_FALLBACKS,
)

CHECKIN_FULL: Final = Dialog(
    name="checkin",  # the saved states of the first version carry this name
    start="med_change",
    nodes=(
        _identity("med_change"),
        Node("med_change", Expect.YES_NO, "med_change", yes="med_change_details", no="adherence"),
        Node("med_change_details", Expect.TEXT, "med_change", then="adherence"),
        Node("adherence", Expect.YES_NO, "adherence", yes="adherence_details", no="prn_need"),
        Node("adherence_details", Expect.TEXT, "adherence", then="prn_need"),
        Node("prn_need", Expect.YES_NO, "prn_need", yes="prn_need_details", no="health_change"),
        Node("prn_need_details", Expect.TEXT, "prn_need", then="health_change"),
        Node(
            "health_change",
            Expect.YES_NO,
            "health_change",
            yes="health_change_details",
            no="concern",
        ),
        Node("health_change_details", Expect.TEXT, "health_change", then="concern"),
        Node("concern", Expect.TEXT_OR_NO, "concern", yes="concern_details", no=END, then=END),
        Node("concern_details", Expect.TEXT, "concern", then=END),
        _CALLBACK_MESSAGE,
    ),
    fallbacks=_FALLBACKS,
)

DIALOGS: Final[Mapping[str, Dialog]] = {d.name: d for d in (CHECKIN_QUICK, CHECKIN_FULL)}
# Kept for callers of the first version: the full form under its old name.
CHECKIN: Final = CHECKIN_FULL


def dialog_for(form: str) -> Dialog:
    """The check-in dialog of a store's form (`quick` unless it chose `full`)."""
    return CHECKIN_FULL if form == "full" else CHECKIN_QUICK


def dialog_named(name: str | None, form: str) -> Dialog:
    """The dialog a saved state was started with; a new one follows the store's form."""
    return DIALOGS.get(name or "", dialog_for(form))
