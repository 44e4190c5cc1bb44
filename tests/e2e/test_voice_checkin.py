"""A whole voice check-in, following the TwiML action URLs as Twilio would."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from store.models import Checkin, CheckinForm, CheckinStatus, Message, QueueItem
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster, sid

NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
PATIENT = "+12025550143"
DEFAULTS = outreach.Defaults(store_code="main", sender=Sender(None, None))
URLS = outreach.Urls("http://localhost")


class Call:
    """One phone call: posts to the URLs the previous TwiML named, like Twilio."""

    def __init__(self, twilio: TwilioPoster, call_sid: str, *, inbound: bool = False) -> None:
        self.twilio, self.sid, self.inbound = twilio, call_sid, inbound
        self.twiml: ET.Element | None = None

    def post(self, url: str, **extra: str) -> ET.Element:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        form = self.twilio.call_form(self.sid, PATIENT, inbound=self.inbound, **extra)
        response = self.twilio.post(path, form)
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        self.twiml = ET.fromstring(response.data)
        return self.twiml

    @property
    def said(self) -> str:
        assert self.twiml is not None
        return " ".join(e.text or "" for e in self.twiml.iter("Say"))

    def gather_action(self) -> str:
        assert self.twiml is not None
        gather = self.twiml.find("Gather")
        assert gather is not None, ET.tostring(self.twiml)
        # Every <Gather> is followed by a fallback verb.
        children = list(self.twiml)
        assert children[children.index(gather) + 1].tag == "Redirect"
        return gather.attrib["action"]

    def redirect(self) -> str:
        assert self.twiml is not None
        redirect = self.twiml.find("Redirect")
        assert redirect is not None and redirect.text
        return redirect.text

    def record_action(self) -> str:
        assert self.twiml is not None
        record = self.twiml.find("Record")
        assert record is not None, ET.tostring(self.twiml)
        return record.attrib["action"]

    def press(self, digits: str) -> ET.Element:
        return self.post(self.gather_action(), Digits=digits)

    def say(self, speech: str, confidence: str = "0.92") -> ET.Element:
        return self.post(self.gather_action(), SpeechResult=speech, Confidence=confidence)

    def record(self, url: str) -> ET.Element:
        return self.post(self.record_action(), RecordingUrl=url, RecordingDuration="7")

    @property
    def hung_up(self) -> bool:
        return self.twiml is not None and self.twiml.find("Hangup") is not None


@pytest.fixture
def checkin(session: Session) -> Checkin:
    # The full form: one question per topic (the quick form by voice: test_quick_checkin.py).
    store = make_store(session, checkin_form=CheckinForm.FULL)
    checkin = make_checkin(session, make_patient(session, store))
    session.commit()
    return checkin


@pytest.fixture
def fake() -> FakeTransport:
    return FakeTransport()


def answer(
    twilio: TwilioPoster, session: Session, checkin: Checkin, fake: FakeTransport, **amd: str
) -> Call:
    outreach.place_checkin_call(session, checkin, NOW, transport=fake, urls=URLS, defaults=DEFAULTS)
    (placed,) = fake.sent
    assert placed.machine_detection and placed.status_callback == URLS.voice_status
    call = Call(twilio, placed.sid)
    call.post(placed.url or "", **amd)
    return call


def items(session: Session) -> list[tuple[str, str | None, str | None]]:
    session.expire_all()
    rows = session.scalars(select(QueueItem).order_by(QueueItem.id))
    return [(i.kind.value, i.text, i.recording_url) for i in rows]


def test_a_whole_voice_checkin_with_digits_speech_and_a_recording(
    session: Session, checkin: Checkin, fake: FakeTransport, twilio: TwilioPoster
) -> None:
    call = answer(twilio, session, checkin, fake, AnsweredBy="human")
    # Only the pharmacy and the first name until the patient says it is them.
    assert "Main Street Pharmacy" in call.said and "calling for Ana" in call.said
    assert "refill" not in call.said.lower()
    call.press("1")  # this is Ana
    assert "press 9" in call.said.lower() and "refills" in call.said
    call.press("2")  # no medication change
    call.press("1")  # yes, adherence problem: asked to record details
    assert call.twiml is not None and call.twiml.find("Record") is not None
    call.record("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1")
    call.say("no")  # no PRN need
    call.say("no", confidence="0.95")  # no hospital stay
    call.press("2")  # nothing else
    assert call.hung_up and "look at your answers" in call.said
    assert items(session) == [
        ("adherence", None, "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1")
    ]
    session.expire_all()
    assert session.get(Checkin, checkin.id).status == CheckinStatus.FLAGGED  # type: ignore[union-attr]
    transcript = session.scalars(select(Message).order_by(Message.id)).all()
    # Keys as words for staff (SPEC 6), never as raw digits.
    assert [m.body for m in transcript if m.direction.value == "inbound"][:3] == [
        "pressed 1: this is the patient",
        "pressed 2: no",
        "pressed 1: yes",
    ]


def test_no_input_is_asked_again_once_then_the_call_ends_politely(
    session: Session, checkin: Checkin, fake: FakeTransport, twilio: TwilioPoster
) -> None:
    call = answer(twilio, session, checkin, fake, AnsweredBy="human")
    call.post(call.redirect())
    assert call.twiml is not None and call.twiml.find("Gather") is not None
    call.post(call.redirect())
    assert call.hung_up
    session.expire_all()
    # The check-in stays open for the text reminder; nothing was flagged.
    assert session.get(Checkin, checkin.id).status == CheckinStatus.IN_PROGRESS  # type: ignore[union-attr]
    assert items(session) == []


def test_low_confidence_speech_is_not_taken_as_an_answer(
    session: Session, checkin: Checkin, fake: FakeTransport, twilio: TwilioPoster
) -> None:
    call = answer(twilio, session, checkin, fake, AnsweredBy="human")
    call.press("1")
    call.say("yes", confidence="0.2")
    assert "didn't" in call.said.lower() or "sorry" in call.said.lower()


@pytest.mark.parametrize("machine", ["machine_end_beep", "machine_end_silence", "machine_start"])
def test_an_answering_machine_gets_a_voicemail_without_health_details(
    session: Session, checkin: Checkin, fake: FakeTransport, twilio: TwilioPoster, machine: str
) -> None:
    call = answer(twilio, session, checkin, fake, AnsweredBy=machine)
    assert call.hung_up
    assert "Main Street Pharmacy" in call.said and "(202) 555-0199" in call.said
    for private in ("Ana", "Metformin", "Albuterol", "refill", "medic", "prescription"):
        assert private.lower() not in call.said.lower()
    assert call.twiml is not None and call.twiml.find("Gather") is None


def test_a_fax_machine_is_hung_up_on(
    session: Session, checkin: Checkin, fake: FakeTransport, twilio: TwilioPoster
) -> None:
    call = answer(twilio, session, checkin, fake, AnsweredBy="fax")
    assert call.hung_up and call.said == ""


def test_an_inbound_call_with_an_open_checkin_runs_it(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    fake = FakeTransport()
    outreach.send_checkin_sms(
        session, checkin, outreach.Purpose.FIRST, NOW, transport=fake, urls=URLS, defaults=DEFAULTS
    )
    call = Call(twilio, sid("CA"), inbound=True)
    call.post("http://localhost/twilio/voice")
    assert call.twiml is not None and call.twiml.find("Gather") is not None
    assert "Thank you for calling Main Street Pharmacy" in call.said
    call.press("0")  # a person, please: the pharmacy is not open here, so a message
    assert call.twiml is not None and call.twiml.find("Record") is not None
    call.record("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE7")
    assert [i[0] for i in items(session)] == ["callback_request"]


def test_an_inbound_call_without_a_checkin_leaves_a_message_for_the_pharmacist(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    call = Call(twilio, sid("CA"), inbound=True)
    call.post("http://localhost/twilio/voice")
    assert call.twiml is not None and call.twiml.find("Record") is not None
    call.record("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE9")
    assert call.hung_up
    assert items(session) == [
        (
            "concern",
            "voicemail left for the pharmacist",
            "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE9",
        )
    ]


def test_a_repeated_gather_action_is_not_applied_twice(
    session: Session, checkin: Checkin, fake: FakeTransport, twilio: TwilioPoster
) -> None:
    call = answer(twilio, session, checkin, fake, AnsweredBy="human")
    call.press("1")  # this is Ana
    action = call.gather_action()
    call.post(action, Digits="2")
    call.post(action, Digits="2")  # Twilio retried the same request
    assert "missed any doses" in call.said  # still the second question, without the intro
    assert "Hello" not in call.said
    call.press("2")
    assert "as-needed" in call.said


def _leave_message(twilio: TwilioPoster, call_sid: str, **recording: str) -> None:
    form = twilio.call_form(
        call_sid,
        PATIENT,
        inbound=True,
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE9",
        RecordingDuration="7",
        **recording,
    )
    response = twilio.post("/twilio/voice/message", form)
    assert response.status_code == 200 and b"<Hangup" in response.data


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return len(session.scalars(select(model)).all())


def test_a_voicemail_delivered_three_times_is_kept_once(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    call_sid, recording_sid = sid("CA"), sid("RE")
    for _ in range(3):
        _leave_message(twilio, call_sid, RecordingSid=recording_sid)
    assert (_count(session, Message), _count(session, QueueItem)) == (1, 1)
    session.expire_all()
    assert session.scalars(select(Message.twilio_sid)).one() == recording_sid
    # Another recording is another message, even on the same call.
    _leave_message(twilio, call_sid, RecordingSid=sid("RE"))
    assert (_count(session, Message), _count(session, QueueItem)) == (2, 2)


def test_a_voicemail_without_a_recording_sid_is_kept_once_per_call(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    first, second = sid("CA"), sid("CA")
    for _ in range(3):
        _leave_message(twilio, first)
    _leave_message(twilio, second)
    assert (_count(session, Message), _count(session, QueueItem)) == (2, 2)


def test_a_recorded_answer_delivered_three_times_is_kept_once(
    session: Session, checkin: Checkin, fake: FakeTransport, twilio: TwilioPoster
) -> None:
    call = answer(twilio, session, checkin, fake, AnsweredBy="human")
    call.press("1")  # this is Ana
    call.press("2")  # no medication change
    call.press("1")  # an adherence problem: asked to record it
    action, recording_sid = call.record_action(), sid("RE")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"
    for _ in range(3):
        call.post(action, RecordingUrl=url, RecordingSid=recording_sid, RecordingDuration="7")
        assert "as-needed" in call.said  # the next question, each time
    session.expire_all()
    recorded = session.scalars(select(Message).where(Message.recording_url == url)).all()
    assert [m.twilio_sid for m in recorded] == [recording_sid]
    assert items(session) == [("adherence", None, url)]
