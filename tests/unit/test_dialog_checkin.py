"""Transcript tests of the refill check-in (SPEC 6), in English and Spanish, by SMS and voice."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from dialogs import (
    CHECKIN,
    CHECKIN_QUICK,
    PRIORITY_HIGH,
    PRIORITY_NORMAL,
    AskText,
    AskYesNo,
    Context,
    Dialog,
    DialogState,
    End,
    Event,
    Finding,
    HandOff,
    Reply,
    Say,
    Start,
    Step,
    Timeout,
    Transfer,
    TransferFailed,
    describe_keypress,
    first_message,
    reminder,
    step,
)
from dialogs.context import Channel, Lang

PICKUP = datetime.date(2026, 12, 7)  # a Monday
PHONE = "(555) 010-0199"
QUESTIONS = ("med_change", "adherence", "prn_need", "health_change", "concern")
NO = {"en": "no", "es": "no"}
YES = {"en": "yes", "es": "sí"}
CLOSING_DATE = {"en": "Mon Dec 7", "es": "lun 7 dic"}


def make_ctx(channel: Channel = "sms", language: Lang = "en", **overrides: Any) -> Context:
    fields: dict[str, Any] = {
        "pharmacy_name": "Main Street Pharmacy",
        "pharmacy_phone": "(555) 010-0199",
        "patient_first_name": "Maria",
        "pickup_date": PICKUP,
        "channel": channel,
        "language": language,
    }
    return Context(**{**fields, **overrides})


class Transcript:
    """Play a conversation step by step and check what the bot says and raises."""

    def __init__(
        self,
        channel: Channel = "sms",
        language: Lang = "en",
        dialog: Dialog = CHECKIN,
        **ctx: Any,
    ) -> None:
        self.dialog = dialog
        self.ctx = make_ctx(channel, language, **ctx)
        self.state: DialogState | None = None
        self.steps: list[Step] = []

    def send(self, event: Event) -> Transcript:
        result = step(self.dialog, self.state, event, self.ctx)
        # Every state goes through JSON, as it does through the store.
        self.state = DialogState.from_json(json.loads(json.dumps(result.state.to_json())))
        assert self.state == result.state
        self.steps.append(result)
        return self

    def start(self) -> Transcript:
        return self.send(Start())

    def reply(self, text: str | None = None, **fields: Any) -> Transcript:
        return self.send(Reply(text=text, **fields))

    def timeout(self) -> Transcript:
        return self.send(Timeout())

    @property
    def last(self) -> Step:
        return self.steps[-1]

    @property
    def said(self) -> str:
        return "\n".join(getattr(o, "text", "") for o in self.last.outputs)

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.steps for f in s.findings]

    def expect(self, *fragments: str) -> Transcript:
        for fragment in fragments:
            assert fragment in self.said, f"{fragment!r} not in {self.said!r}"
        return self

    def expect_asked(self, node: str) -> Transcript:
        asks = [o for o in self.last.outputs if isinstance(o, AskYesNo | AskText)]
        assert [a.node for a in asks] == [node], self.last.outputs
        assert self.last.outcome == "in_progress"
        return self

    def expect_end(self, outcome: str) -> Transcript:
        assert isinstance(self.last.outputs[-1], End), self.last.outputs
        assert self.last.state.done
        assert self.last.outcome == outcome
        return self

    def kinds(self) -> list[str]:
        return [f.kind for f in self.findings]


def answer_all_no(t: Transcript, language: Lang, upto: int = len(QUESTIONS)) -> Transcript:
    for node in QUESTIONS[:upto]:
        t.expect_asked(node).reply(NO[language])
    return t


# --- The happy paths -------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_it_confirms_the_pickup_date_when_every_answer_is_no(language: Lang) -> None:
    t = answer_all_no(Transcript(language=language).start(), language)
    t.expect_end("confirmed").expect(CLOSING_DATE[language], "(555) 010-0199")
    assert t.findings == []
    assert t.last.state.data["answers"] == {q: "no" for q in QUESTIONS}


def test_it_asks_the_five_questions_in_order_in_english() -> None:
    t = Transcript().start()
    t.expect("Any new, stopped or changed medicines or doses? Reply YES or NO.").reply("no")
    t.expect("Any missed doses, side effects, leftover pills or trouble taking them?").reply("N")
    t.expect("Need any as-needed items this time").reply("nope")
    t.expect("Any hospital or ER stay, or a new health condition?").reply("No thanks")
    t.expect("Anything else for the pharmacist? Reply with your question, or NO.").reply("no")
    assert t.last.outputs == (
        End(
            "Main Street Pharmacy: Thank you! We'll have your refills for Mon Dec 7."
            " Questions? Call (555) 010-0199."
        ),
    )


def test_it_asks_the_five_questions_in_order_in_spanish() -> None:
    t = Transcript(language="es").start()
    t.expect("¿Medicinas o dosis nuevas, suspendidas o cambiadas? Responda SI o NO.").reply("no")
    t.expect("¿Olvido dosis, efectos secundarios").reply("No gracias")
    t.expect("¿Necesita algo de uso ocasional").reply("nada")
    t.expect("¿Estancia en hospital o urgencias").reply("ninguno")
    t.expect("¿Tiene otra pregunta para el farmaceutico?").reply("no")
    t.expect_end("confirmed").expect("¡Gracias! Tendremos sus resurtidos para el lun 7 dic.")


def test_it_opens_by_sms_with_exactly_the_first_message() -> None:
    t = Transcript().start()
    assert t.last.outputs == (AskYesNo(first_message(t.ctx, "full"), "med_change"),)
    assert t.said == (
        "Main Street Pharmacy: Hi Maria! Any new, stopped or changed medicines or"
        " doses? Reply YES or NO. Call (555) 010-0199. Reply STOP to opt out."
    )


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("index", range(len(QUESTIONS)))
def test_it_raises_each_kind_with_the_patients_own_words(language: Lang, index: int) -> None:
    kind = QUESTIONS[index]
    # Words that name no topic of their own: the yes says what they are about.
    words = {"en": "about the one I take at night", "es": "es sobre la de la noche"}[language]
    t = answer_all_no(Transcript(language=language).start(), language, upto=index)
    t.expect_asked(kind).reply(YES[language])
    t.expect_asked(f"{kind}_details").reply(words)
    for node in QUESTIONS[index + 1 :]:
        t.expect_asked(node).reply(NO[language])
    t.expect_end("flagged")
    priority = PRIORITY_HIGH if kind == "health_change" else PRIORITY_NORMAL
    assert [(f.kind, f.text, f.priority, f.node) for f in t.findings] == [
        (kind, words, priority, f"{kind}_details")
    ]


def test_it_raises_several_findings_and_says_a_pharmacist_will_review() -> None:
    t = Transcript().start()
    t.reply("yes").reply("new blood pressure pill")
    t.reply("no")
    t.reply("Y").reply("test strips please")
    t.reply("yes").reply("ER visit last week for chest pain")
    t.reply("When can I get my flu shot?")
    t.expect_end("flagged").expect("A pharmacist will look at this", "Mon Dec 7")
    assert [(f.kind, f.text) for f in t.findings] == [
        ("med_change", "new blood pressure pill"),
        ("prn_need", "test strips please"),
        ("health_change", "ER visit last week for chest pain"),
        ("concern", "When can I get my flu shot?"),
    ]
    assert [f.priority for f in t.findings] == [2, 2, 1, 2]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "yes my doctor changed my metformin"),
        ("en", "Yes! I had to stop my metformin."),
        ("es", "sí, el doctor me cambió la metformina"),
    ],
)
def test_it_uses_details_given_with_the_yes_and_does_not_ask_again(
    language: Lang, message: str
) -> None:
    t = Transcript(language=language).start().reply(message)
    t.expect_asked("adherence")
    assert [(f.kind, f.text, f.node) for f in t.findings] == [("med_change", message, "med_change")]
    assert t.findings[0].reason and "medication change" in t.findings[0].reason


def test_it_takes_the_concern_as_free_text_or_asks_for_it_after_a_bare_yes() -> None:
    t = answer_all_no(Transcript().start(), "en", upto=4)
    t.reply("yes").expect_asked("concern_details").expect("What would you like to ask")
    t.reply("Can I switch to 90-day supplies?").expect_end("flagged")
    assert t.kinds() == ["concern"]
    assert t.findings[0].text == "Can I switch to 90-day supplies?"


def test_it_keeps_a_no_that_has_more_to_say() -> None:
    t = Transcript().start().reply("No, but I have a question about my insulin")
    t.expect_asked("adherence")
    assert [(f.kind, f.text, f.node) for f in t.findings] == [
        ("concern", "No, but I have a question about my insulin", "med_change")
    ]


def test_it_keeps_a_very_long_message_whole() -> None:
    long_text = ("yes, my doctor changed the dose of my morning pill again; " * 30)[:1600]
    t = Transcript().start().reply(long_text)
    assert t.findings[0].text == long_text.strip()
    assert len(t.findings[0].text or "") >= 1599


# --- Opt-out, help, people, and what cannot be read --------------------------------------------


@pytest.mark.parametrize(
    ("language", "word", "confirmation"),
    [
        ("en", "STOP", "Main Street Pharmacy: You are unsubscribed"),
        ("en", "stop.", "Main Street Pharmacy: You are unsubscribed"),
        ("en", "Opt-Out", "Main Street Pharmacy: You are unsubscribed"),
        ("es", "ALTO", "Main Street Pharmacy: Su suscripcion fue cancelada"),
        ("es", "No más", "Main Street Pharmacy: Su suscripcion fue cancelada"),
    ],
)
def test_it_opts_out_on_a_stop_word_mid_dialog(
    language: Lang, word: str, confirmation: str
) -> None:
    t = Transcript(language=language).start().reply("no").reply(word)
    assert t.last.opted_out
    assert len(t.last.outputs) == 1 and isinstance(t.last.outputs[0], End)
    t.expect_end("opted_out").expect(confirmation)
    assert t.findings == [Finding("opted_out", word, None, node="adherence")]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Please stop texting me"),
        ("en", "take me off your list"),
        ("es", "deja de enviarme mensajes"),
        ("es", "No me escriban más"),
    ],
)
def test_it_opts_out_on_a_clear_revocation_in_free_text(language: Lang, message: str) -> None:
    t = Transcript(language=language).start().reply("yes").reply(message)
    t.expect_end("opted_out")
    assert t.last.opted_out
    # The yes to med_change is still kept for the pharmacist, with the opt-out.
    assert t.kinds() == ["med_change", "opted_out"]
    assert t.findings[-1].text == message


def test_it_sends_only_the_confirmation_after_an_opt_out() -> None:
    t = Transcript().start().reply("STOP")
    t.start().reply("STOP")
    assert [s.outputs for s in t.steps[2:]] == [(), ()]
    t.reply("hello?")  # kept for the pharmacist, answered with nothing
    assert t.last.outputs == ()
    assert [(f.kind, f.text) for f in t.last.findings] == [("concern", "hello?")]
    t.reply("START")
    assert t.last.opted_in
    t.expect("Main Street Pharmacy: Subscribed to Med Sync refill check-ins")


def test_it_hands_an_ambiguous_revocation_to_a_human_without_opting_out() -> None:
    t = Transcript().start().reply("I don't want this")
    assert not t.last.opted_out
    assert isinstance(t.last.outputs[0], HandOff)
    t.expect_end("flagged").expect("To stop all texts, reply STOP.")
    assert [(f.kind, f.text, f.priority, f.node) for f in t.findings] == [
        ("needs_human", "I don't want this", PRIORITY_HIGH, "med_change")
    ]


@pytest.mark.parametrize(
    ("language", "word", "help_fragment", "question"),
    [
        ("en", "HELP", "Msg & data rates may apply", "Any new, stopped or changed medicines"),
        ("es", "ayuda", "Pueden aplicar tarifas de mensajes y datos", "¿Medicinas o dosis nuevas"),
    ],
)
def test_it_answers_help_and_asks_the_same_question_again(
    language: Lang, word: str, help_fragment: str, question: str
) -> None:
    t = Transcript(language=language).start().reply(word)
    assert isinstance(t.last.outputs[0], Say)
    t.expect(help_fragment, "(555) 010-0199", question).expect_asked("med_change")
    answer_all_no(t, language).expect_end("confirmed")
    assert t.findings == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_it_hands_to_a_human_after_two_replies_it_cannot_read(language: Lang) -> None:
    t = Transcript(language=language).start().reply("no").reply("purple")
    t.expect_asked("adherence").expect(
        {"en": "Sorry, I didn't understand.", "es": "Perdon"}[language]
    )
    t.expect({"en": "Reply YES or NO.", "es": "Responda SI o NO."}[language])
    t.reply("🙂🙂")
    assert [type(o) for o in t.last.outputs] == [HandOff, End]
    t.expect_end("flagged").expect(
        {"en": "A pharmacist will call you", "es": "le llamara"}[language]
    )
    assert t.findings == [Finding("needs_human", "purple\n🙂🙂", None, node="adherence")]


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "call me"), ("en", "Can I talk to the pharmacist?"), ("es", "llámenme por favor")],
)
def test_it_raises_a_callback_when_the_patient_asks_for_a_person(
    language: Lang, message: str
) -> None:
    t = Transcript(language=language).start().reply(message)
    assert t.last.outputs[0] == HandOff("callback_request")
    t.expect_end("flagged").expect("(555) 010-0199")
    assert t.findings == [Finding("callback_request", message, None, node="med_change")]


def test_it_keeps_the_pending_yes_when_the_patient_asks_for_a_person_instead() -> None:
    t = Transcript().start().reply("no").reply("no").reply("no").reply("yes").reply("just call me")
    assert t.kinds() == ["health_change", "callback_request"]
    assert t.findings[0].text is None and t.findings[0].priority == PRIORITY_HIGH


# --- After the end, timeouts, resuming ---------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_it_keeps_a_reply_after_the_end_as_a_concern(language: Lang) -> None:
    t = answer_all_no(Transcript(language=language).start(), language).expect_end("confirmed")
    message = {"en": "oh and I need a new inhaler", "es": "y necesito otro inhalador"}[language]
    t.reply(message)
    assert not any(isinstance(o, AskYesNo | AskText) for o in t.last.outputs)
    t.expect({"en": "we passed your message", "es": "pasamos su mensaje"}[language])
    # A reply after the end is a concern (SPEC 6); the reason says what the reader saw in it.
    assert [(f.kind, f.text) for f in t.last.findings] == [("concern", message)]
    assert "as-needed request" in (t.last.findings[0].reason or "")
    assert t.last.outcome == "flagged"


def test_it_honours_keywords_after_the_end() -> None:
    t = answer_all_no(Transcript().start(), "en")
    t.reply("HELP").expect("Msg & data rates may apply")
    assert t.last.findings == () and t.last.outcome == "confirmed"
    t.reply("call me")
    assert t.last.findings == (Finding("callback_request", "call me", None),)
    t.reply("STOP").expect("You are unsubscribed")
    assert t.last.opted_out
    assert t.last.outcome == "flagged"  # the check-in was answered before the opt-out


def test_it_treats_a_reply_with_no_check_in_open_as_a_late_reply() -> None:
    result = step(CHECKIN, None, Reply(text="is my order ready?"), make_ctx())
    assert [(f.kind, f.text) for f in result.findings] == [("concern", "is my order ready?")]
    assert "passed your message to the pharmacist" in result.outputs[0].text  # type: ignore[union-attr]


def test_it_reasks_once_after_no_input_then_pauses_with_the_check_in_open() -> None:
    t = Transcript().start().timeout()
    t.expect_asked("med_change").expect("We didn't get your answer.")
    t.timeout()
    assert t.last.outputs == (
        End("Main Street Pharmacy: We'll try again later. Questions? Call (555) 010-0199."),
    )
    assert t.last.outcome == "in_progress" and not t.last.state.done
    t.reply("no").expect_asked("adherence")


def test_it_resumes_an_open_check_in_with_a_reminder() -> None:
    t = Transcript().start().start()
    assert t.last.outputs == (AskYesNo(reminder(t.ctx, "full"), "med_change"),)
    t.reply("no").start().expect_asked("adherence").expect("Reminder:", "Reply STOP to opt out.")


def test_it_does_not_restart_a_finished_check_in() -> None:
    t = answer_all_no(Transcript().start(), "en").start()
    t.expect("Your refill check-in is complete")
    assert t.last.findings == ()


def test_it_limits_help_so_that_the_dialog_still_ends() -> None:
    t = Transcript().start().reply("help").reply("help").reply("help")
    t.expect("Msg & data rates", "Sorry, I didn't understand.").expect_asked("med_change")
    t.reply("help").expect_end("flagged")
    assert t.kinds() == ["needs_human"]


# --- Language ----------------------------------------------------------------------------------


def test_it_switches_to_spanish_when_the_patient_answers_in_spanish() -> None:
    t = Transcript(language="en").start().reply("sí")
    assert t.last.language == "es"
    t.expect_asked("med_change_details").expect("¿Que cambio?")
    t.reply("me cambiaron la dosis").expect("¿Olvido dosis")
    t.reply("no thanks")  # and back
    assert t.last.language == "en"
    t.expect("Need any as-needed items")


def test_it_keeps_the_language_for_words_that_belong_to_both() -> None:
    t = Transcript(language="es").start().reply("no").reply("STOP")
    assert t.last.language == "es"
    t.expect("Su suscripcion fue cancelada")


# --- Voice -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "asked", "fragments"),
    [
        ("en", "calling for Maria. If this is Maria, press 1", ("press 0", "press 9", "Dec")),
        ("es", "buscando a Maria. Si usted es Maria, presione 1", ("presione 0", "presione 9")),
    ],
)
def test_it_asks_for_the_patient_before_saying_anything_about_refills(
    language: Lang, asked: str, fragments: tuple[str, ...]
) -> None:
    t = Transcript("voice", language).start()
    assert [type(o) for o in t.last.outputs] == [AskYesNo]
    t.expect("Main Street Pharmacy", asked)
    assert not [w for w in ("refill", "resurtido", "medic") if w in t.said.lower()]
    t.reply(digits="1")
    assert [type(o) for o in t.last.outputs] == [Say, AskYesNo]
    t.expect(*fragments).expect_asked("med_change")


def test_it_gives_anyone_else_only_the_pharmacy_and_its_number() -> None:
    t = Transcript("voice").start().reply(digits="2")
    t.expect("Please ask Maria to call Main Street Pharmacy at (555) 010-0199")
    assert isinstance(t.last.outputs[-1], End) and not t.last.state.done
    assert t.findings == [] and "refill" not in t.said.lower()
    t.start().expect_asked("identity")  # the next call asks again


def test_it_greets_an_inbound_caller_as_one() -> None:
    t = Transcript("voice", inbound_call=True).start()
    t.expect("Thank you for calling Main Street Pharmacy").expect_asked("med_change")


def test_it_confirms_a_quick_call_with_one_keypress_after_the_identity_check() -> None:
    t = Transcript("voice", dialog=CHECKIN_QUICK).start().reply(digits="1")
    t.expect("If nothing has changed, press 1").reply(digits="1")
    t.expect_end("confirmed").expect("We'll have your refills for Monday, December 7")
    assert set(t.last.topics.values()) == {"none"}


def test_it_runs_a_call_with_keys_speech_and_a_recording() -> None:
    t = Transcript("voice").start().reply(digits="1")
    t.reply(digits="1").expect_asked("med_change_details").expect("after the tone")
    assert isinstance(t.last.outputs[0], AskText)
    t.reply(recording_url="https://api.twilio.example/rec/RE1", text="my dose went up")
    t.reply(speech="No.", confidence=0.91).expect_asked("prn_need")
    t.reply(digits="2").reply(digits="2")
    t.expect_asked("concern")
    assert isinstance(t.last.outputs[0], AskYesNo)  # by voice the concern starts as yes/no
    t.reply(speech="no thank you", confidence=0.8).expect_end("flagged").expect("Goodbye.")
    assert [(f.kind, f.text, f.recording_url, f.node) for f in t.findings] == [
        (
            "med_change",
            "my dose went up",
            "https://api.twilio.example/rec/RE1",
            "med_change_details",
        )
    ]


def test_it_reads_speech_with_the_same_reader_as_texts() -> None:
    t = Transcript("voice", dialog=CHECKIN_QUICK).start().reply(digits="1")
    t.reply(speech="no changes but I was in the emergency room", confidence=0.9)
    assert t.kinds() == ["health_change"]
    t.expect_end("flagged")


def test_it_does_not_trust_speech_below_the_confidence_threshold() -> None:
    t = Transcript("voice").start().reply(digits="1").reply(speech="yes", confidence=0.2)
    t.expect_asked("med_change").expect("Sorry, I didn't understand.")
    t.reply(speech="stop", confidence=0.3)
    t.expect_end("flagged")
    assert t.findings[0].kind == "needs_human"
    assert t.findings[0].text == "yes\nstop"  # the words are kept even though not trusted


def test_it_opts_out_on_nine_and_hands_off_on_zero_by_voice() -> None:
    t = Transcript("voice").start().reply(digits="1").reply(digits="9")
    assert t.last.opted_out
    t.expect("You will not get any more refill calls or texts from Main Street Pharmacy.")


def test_it_puts_the_caller_through_to_the_pharmacy_when_it_is_open() -> None:
    t = Transcript("voice", pharmacy_open=True).start().reply(digits="1").reply(digits="0")
    assert t.last.outputs == (Transfer("Please hold while we connect you to the pharmacy.", PHONE),)
    assert t.findings == [] and not t.last.state.done


def test_it_takes_a_message_when_the_pharmacy_is_closed_or_does_not_answer() -> None:
    closed = Transcript("voice").start().reply(digits="1").reply(digits="0")
    closed.expect("The pharmacy is closed right now.", "leave a message").expect_asked(
        "callback_message"
    )
    closed.reply(recording_url="https://api.twilio.example/rec/RE9")
    assert [(f.kind, f.recording_url) for f in closed.findings] == [
        ("callback_request", "https://api.twilio.example/rec/RE9")
    ]
    busy = Transcript("voice", pharmacy_open=True).start().reply(digits="1").reply(digits="0")
    busy.send(TransferFailed()).expect("no one could answer").expect_asked("callback_message")
    busy.timeout()
    assert [(f.kind, f.note) for f in busy.findings] == [("callback_request", "no message left")]


def test_it_keeps_a_yes_without_details_when_the_recording_times_out() -> None:
    t = Transcript("voice").start().reply(digits="1").reply(digits="1").timeout()
    t.expect_asked("adherence")
    assert [(f.kind, f.text, f.node, f.note) for f in t.findings] == [
        ("med_change", None, "med_change_details", "no details given")
    ]


def test_it_ends_a_silent_call_politely_and_keeps_the_check_in_open() -> None:
    t = Transcript("voice").start().timeout().expect("Sorry, I didn't hear anything.")
    t.timeout().expect("Please ask Maria to call", "(555) 010-0199")
    assert t.last.outcome == "in_progress" and t.findings == []
    answered = Transcript("voice").start().reply(digits="1").timeout().timeout()
    answered.expect("We'll try again later.", "(555) 010-0199")
    assert answered.last.outcome == "in_progress" and answered.findings == []


def test_it_describes_keypresses_in_words_for_staff() -> None:
    assert describe_keypress(CHECKIN_QUICK, "quick", "1") == "pressed 1: nothing has changed"
    assert describe_keypress(CHECKIN_QUICK, "quick", "2") == "pressed 2: wants to tell us something"
    assert describe_keypress(CHECKIN, "med_change", "0") == "pressed 0: asked for a pharmacist"
    assert describe_keypress(CHECKIN, "identity", "1") == "pressed 1: this is the patient"
    assert describe_keypress(CHECKIN, "adherence", "7") == "pressed 7: not one of the choices"


def test_it_never_reports_a_finished_dialog_as_in_progress() -> None:
    ended = DialogState("end", "en", {"opted_out": True}, done=True)  # as the app may build it
    result = step(CHECKIN, ended, Reply(text="hello?"), make_ctx())
    assert result.outputs == () and result.outcome == "opted_out"
    assert [(f.kind, f.text) for f in result.findings] == [("concern", "hello?")]


def test_it_raises_several_findings_in_spanish() -> None:
    t = Transcript(language="es").start()
    t.reply("sí").reply("el doctor me quitó una pastilla")
    t.reply("Sí, se me olvidaron varias dosis")
    t.reply("no").reply("no")
    t.reply("¿Puedo recoger el jueves?")
    t.expect_end("flagged").expect("Un farmaceutico lo revisara", "lun 7 dic")
    assert [(f.kind, f.text) for f in t.findings] == [
        ("med_change", "el doctor me quitó una pastilla"),
        ("adherence", "Sí, se me olvidaron varias dosis"),
        ("concern", "¿Puedo recoger el jueves?"),
    ]


def test_it_hands_a_state_from_an_older_dialog_to_a_human_with_the_words() -> None:
    old = DialogState("pickup_or_delivery", "en", {"answers": {}, "raised": []})
    result = step(CHECKIN, old, Reply(text="delivery please"), make_ctx())
    assert [(f.kind, f.text) for f in result.findings] == [("needs_human", "delivery please")]
    assert result.outcome == "flagged" and result.state.done
