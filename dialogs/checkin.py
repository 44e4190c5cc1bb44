"""The refill check-in (SPEC 6) declared as data: five questions, one details request per yes.

    med_change -> adherence -> prn_need -> health_change -> concern -> closing

A yes asks for details in the patient's own words (a yes that already has them skips that), and
the details become the finding of the question's kind; health_change findings are high priority.
The last question takes free text directly by SMS ("Reply with your question, or NO") and is
asked yes/no by voice, where the question is then recorded.
Fallbacks work on every question: opt-out words and clear revocations opt out; HELP answers the
help text and asks again; START asks again; a request for a person raises callback_request; an
ambiguous revocation goes to a human (high priority, the patient may want out) and tells the
patient how to opt out. The diagram in docs/checkin.mmd is generated from this declaration.
"""

from __future__ import annotations

from typing import Final

from dialogs.engine import (
    END,
    PRIORITY_HIGH,
    Action,
    Dialog,
    Expect,
    Fallback,
    Node,
)

CHECKIN: Final = Dialog(
    name="checkin",
    start="med_change",
    nodes=(
        Node("med_change", Expect.YES_NO, yes="med_change_details", no="adherence"),
        Node("med_change_details", Expect.TEXT, kind="med_change", then="adherence"),
        Node("adherence", Expect.YES_NO, yes="adherence_details", no="prn_need"),
        Node("adherence_details", Expect.TEXT, kind="adherence", then="prn_need"),
        Node("prn_need", Expect.YES_NO, yes="prn_need_details", no="health_change"),
        Node("prn_need_details", Expect.TEXT, kind="prn_need", then="health_change"),
        Node("health_change", Expect.YES_NO, yes="health_change_details", no="concern"),
        Node(
            "health_change_details",
            Expect.TEXT,
            kind="health_change",
            then="concern",
            priority=PRIORITY_HIGH,
        ),
        Node("concern", Expect.TEXT_OR_NO, yes="concern_details", no=END, then=END, kind="concern"),
        Node("concern_details", Expect.TEXT, kind="concern", then=END),
    ),
    fallbacks={
        "stop": Fallback(Action.OPT_OUT),
        "help": Fallback(Action.HELP),
        "start": Fallback(Action.REASK),
        "person": Fallback(Action.HAND_OFF, kind="callback_request", say="end_callback"),
        "maybe_stop": Fallback(
            Action.HAND_OFF, kind="needs_human", priority=PRIORITY_HIGH, say="end_maybe_stop"
        ),
    },
    retries=1,
    no_input_retries=1,
    max_stalls=2,
    speech_threshold=0.5,
)
