"""Every template in every language, rendered with long names, against SPEC 8."""

from __future__ import annotations

import datetime
import re

import pytest

from dialogs import CHECKIN_FULL, CHECKIN_QUICK, texts
from dialogs.context import LANGUAGES, Context, Lang
from dialogs.sms_rules import is_gsm7, segment_count, to_gsm7
from dialogs.texts import (
    first_message,
    format_date,
    help_text,
    late_reply_ack,
    opt_in_confirmation,
    opt_out_confirmation,
    reminder,
    unknown_number_reply,
    voicemail,
)

PHONE = "(555) 010-0199"
# Up to 40 characters for pharmacies and 20 for first names, with accents outside GSM-7 and
# characters from the GSM-7 extension table (which count twice).
PHARMACIES = [
    "Farmacia Comunitaria Santa María del Río",
    "Northside Community Pharmacy & Wellness",
    "Smith [Main St] Pharmacy | Downtown Br.",
    "Rx",
]
PATIENTS = ["Maximiliano-Jonathan", "Zoë Núñez-Ibáñez", "Al"]
MEDICINES = ["metformin", "lisinopril", "atorvastatin", "albuterol", "insulin", "Eliquis"]
OPT_OUT = {"en": "Reply STOP to opt out.", "es": "ALTO para no recibir mas."}
# Questions asked by voice only: who answered the phone, and a message for a call back.
VOICE_ONLY = ("identity", "callback_message")
QUESTION_KEYS = [n.id for d in (CHECKIN_QUICK, CHECKIN_FULL) for n in d.nodes if n.id != "end"]
QUESTION_KEYS = list(dict.fromkeys(QUESTION_KEYS))
SMS_QUESTIONS = [q for q in QUESTION_KEYS if q not in VOICE_ONLY]
# Texts that wrap a question; the others stand alone.
WRAPPERS = (
    "first_message",
    "reminder",
    "ask",
    "reask",
    "noinput",
    "who",
    "noted",
    "question_noted",
    "closed_message",
    "transfer_failed",
)


def contexts(channel: str = "sms") -> list[Context]:
    return [
        Context(
            pharmacy,
            PHONE,
            patient,
            datetime.date(2026, 9, 30),  # the longest abbreviated date: "Wed Sep 30"
            channel,  # type: ignore[arg-type]
            language,
            program_name="Med Sync",
        )
        for pharmacy in PHARMACIES
        for patient in PATIENTS
        for language in LANGUAGES
    ]


def every_sms(ctx: Context) -> list[tuple[str, str]]:
    """Return (name, text) for every SMS the bot can send to this patient."""
    table = texts.TABLES[ctx.language, "sms"]
    rendered = []
    for key in table:
        if key == "hi" or key in QUESTION_KEYS or key.endswith("_reask"):
            continue
        if key == "unknown_number":
            text = unknown_number_reply(ctx.pharmacy_name, ctx.pharmacy_phone, ctx.language)
            rendered.append((key, text))
        elif key == "first_message":  # only ever carries a form's first question
            for form in ("quick", "full"):
                rendered.append((f"{key}/{form}", first_message(ctx, form)))
        elif key in WRAPPERS:
            for question in SMS_QUESTIONS:
                rendered.append((f"{key}/{question}", texts.render(key, ctx, question=question)))
        else:
            rendered.append((key, texts.render(key, ctx)))
    return rendered


def every_voice_text(ctx: Context) -> list[str]:
    table = texts.TABLES[ctx.language, "voice"]
    return [
        texts.render(key, ctx, question=question if key in WRAPPERS else None)
        for key in table
        if key not in QUESTION_KEYS and not key.endswith("_reask")
        for question in (QUESTION_KEYS if key in WRAPPERS else [None])
    ]


def pharmacy_named(text: str, ctx: Context) -> bool:
    """True if the text opens with the pharmacy name, shortened to no less than 8 characters."""
    opening = re.split(r":| Med Sync", text, maxsplit=1)[0]
    return len(opening) >= min(8, len(ctx.pharmacy_name)) and to_gsm7(ctx.pharmacy_name).startswith(
        opening
    )


@pytest.mark.parametrize("ctx", contexts(), ids=lambda c: f"{c.language}-{c.pharmacy_name[:10]}")
def test_it_fits_every_sms_in_one_gsm7_segment_and_names_the_pharmacy(ctx: Context) -> None:
    for name, text in every_sms(ctx):
        assert is_gsm7(text), (name, text)
        assert segment_count(text) == 1, (name, len(text), text)
        assert pharmacy_named(text, ctx), (name, text)


@pytest.mark.parametrize("ctx", contexts(), ids=lambda c: f"{c.language}-{c.pharmacy_name[:10]}")
def test_it_puts_the_callback_number_and_opt_out_in_the_first_message(ctx: Context) -> None:
    for form in ("quick", "full"):
        for text in (first_message(ctx, form), reminder(ctx, form)):
            assert OPT_OUT[ctx.language] in text
        assert PHONE in first_message(ctx, form)
        question = texts.TABLES[ctx.language, "sms"][texts.FIRST_QUESTION[form]]
        wordings = (question,) if isinstance(question, str) else question
        assert any(wording in first_message(ctx, form) for wording in wordings)


TOPIC_WORDS = {
    "en": ("med", "dose", "hospital", "need", "question"),
    "es": ("medicina", "dosis", "hospital", "necesi", "pregunta"),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("pharmacy", ["Main Street Pharmacy", "Smith Drugs", "Rx"])
def test_it_names_every_topic_in_the_quick_question_with_common_names(
    language: Lang, pharmacy: str
) -> None:
    ctx = Context(pharmacy, PHONE, "Maria", datetime.date(2026, 9, 30), "sms", language)
    text = first_message(ctx).lower()
    assert "maria" in text
    missing = [w for w in TOPIC_WORDS[language] if w not in text]
    assert missing == [] or (language == "es" and missing == ["necesi"]), text


def test_it_shortens_the_question_before_dropping_the_name_then_the_pharmacy() -> None:
    long_name = Context(
        "Northside Community Pharmacy & Wellness",
        PHONE,
        "Maximiliano",
        datetime.date(2026, 9, 30),
        "sms",
        "en",
    )
    text = first_message(long_name)
    wordings = texts.TABLES["en", "sms"]["quick"]
    assert text.startswith("Northside Community Pharmacy & Wellness: ")
    assert not any(w in text for w in wordings[:2])  # the longest questions did not fit
    assert segment_count(text) == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_keeps_the_names_when_they_are_short(language: Lang) -> None:
    ctx = Context(
        "Main Street Pharmacy", PHONE, "Maria", datetime.date(2026, 12, 7), "sms", language
    )
    assert first_message(ctx).startswith("Main Street Pharmacy: ")
    assert "Maria" in first_message(ctx)


@pytest.mark.parametrize("ctx", contexts(), ids=lambda c: f"{c.language}-{c.pharmacy_name[:10]}")
def test_it_answers_help_with_everything_ctia_asks_for(ctx: Context) -> None:
    text = help_text(ctx)
    rates = {"en": "Msg & data rates may apply", "es": "Pueden aplicar tarifas de mensajes y datos"}
    frequency = {"en": "msg frequency varies", "es": "frecuencia variable"}
    for part in ("Med Sync", PHONE, rates[ctx.language], frequency[ctx.language]):
        assert part in text
    assert ("STOP" if ctx.language == "en" else "ALTO") in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_confirms_an_opt_out_with_nothing_else(language: Lang) -> None:
    pharmacy = "Northside Community Pharmacy & Wellness"
    ctx = Context(pharmacy, PHONE, "Rosalind", datetime.date(2026, 12, 7), "sms", language)
    text = opt_out_confirmation(ctx)
    assert text.startswith(pharmacy + ": ")
    assert "?" not in text and PHONE not in text and "Rosalind" not in text
    assert text.count(".") <= 2  # the confirmation, and how to come back


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_confirms_an_opt_in_with_rates_and_opt_out(language: Lang) -> None:
    ctx = Context(
        "Main Street Pharmacy", PHONE, "Maria", datetime.date(2026, 12, 7), "sms", language
    )
    text = opt_in_confirmation(ctx)
    assert ("Msg & data rates" if language == "en" else "tarifas de mensajes y datos") in text
    assert ("STOP to opt out" if language == "en" else "ALTO para salir") in text


@pytest.mark.parametrize("ctx", contexts("voice"), ids=lambda c: c.language)
def test_it_leaves_only_the_pharmacy_and_number_on_voicemail(ctx: Context) -> None:
    text = voicemail(ctx)
    assert ctx.pharmacy_name in text and PHONE in text
    assert ctx.patient_first_name not in text
    health = ("refill", "resurtido", "medic", "prescription", "receta", "pharmacist", "farmac")
    lowered = text.lower().replace(ctx.pharmacy_name.lower(), "")
    assert not [word for word in health if word in lowered]


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_reveals_nothing_to_an_unknown_number(language: Lang) -> None:
    text = unknown_number_reply("Main Street Pharmacy", PHONE, language)
    assert text.startswith("Main Street Pharmacy: ") and PHONE in text
    assert "Maria" not in text and "refill" not in text.lower()


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_acknowledges_a_late_reply(language: Lang) -> None:
    ctx = Context(
        "Main Street Pharmacy", PHONE, "Maria", datetime.date(2026, 12, 7), "sms", language
    )
    expected = {"en": "we passed your message", "es": "pasamos su mensaje"}[language]
    assert expected in late_reply_ack(ctx)


@pytest.mark.parametrize("phi_ok", [False, True])
@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_it_names_no_medicine_in_any_text(phi_ok: bool, channel: str) -> None:
    for ctx in contexts(channel):
        ctx = Context(**{**ctx.__dict__, "phi_ok": phi_ok})
        rendered = [t for _, t in every_sms(ctx)] if channel == "sms" else every_voice_text(ctx)
        for text in rendered:
            assert not [m for m in MEDICINES if m.lower() in text.lower()], text


def test_it_has_the_same_texts_in_both_languages() -> None:
    for channel in ("sms", "voice"):
        assert set(texts.TABLES["en", channel]) == set(texts.TABLES["es", channel])
    for node in QUESTION_KEYS:  # every question of the check-in has its words
        for (_, channel), table in texts.TABLES.items():
            assert node in table or (channel == "sms" and node in VOICE_ONLY), node


def test_it_writes_spanish_sms_without_accents_outside_gsm7_but_keeps_them_by_voice() -> None:
    sms = texts.TABLES["es", "sms"].values()
    assert all(is_gsm7(t) for text in sms for t in ((text,) if isinstance(text, str) else text))
    assert "farmacéutico" in texts.TABLES["es", "voice"]["concern"]


@pytest.mark.parametrize(
    ("language", "channel", "expected"),
    [
        ("en", "sms", "Mon Dec 7"),
        ("en", "voice", "Monday, December 7"),
        ("es", "sms", "lun 7 dic"),
        ("es", "voice", "lunes 7 de diciembre"),
    ],
)
def test_it_formats_the_pickup_date_per_language(
    language: Lang, channel: str, expected: str
) -> None:
    assert format_date(datetime.date(2026, 12, 7), language, channel) == expected  # type: ignore[arg-type]


def test_it_formats_every_day_and_month() -> None:
    days = [datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(365)]
    for language in LANGUAGES:
        for channel in ("sms", "voice"):
            assert len({format_date(d, language, channel) for d in days}) == 365  # type: ignore[arg-type]


@pytest.mark.parametrize("ctx", contexts(), ids=lambda c: f"{c.language}-{c.pharmacy_name[:10]}")
def test_on_a_shared_phone_every_text_names_the_patient_and_still_fits(ctx: Context) -> None:
    shared = Context(**{**ctx.__dict__, "shared_phone": True})
    for name, text in every_sms(shared):
        if name in ("unknown_number", "opt_out", "opt_in", "help"):
            continue  # about the number, not about one patient
        if name == "welcome" and len(shared.pharmacy_name) > 30:
            # CTIA's opt-in terms fill it: with the longest names, the name goes first (it
            # is kept with common names, below).
            continue
        assert segment_count(text) == 1, (name, len(text), text)
        # The first name, shortened at most to its first 8 letters when nothing else fits.
        assert to_gsm7(shared.patient_first_name)[:8] in text, (name, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_welcome_names_the_patient_with_common_names(language: Lang) -> None:
    ctx = Context(
        "Main Street Pharmacy", PHONE, "Maria", datetime.date(2026, 9, 30), "sms", language
    )
    text = texts.render("welcome", ctx)
    assert "Maria" in text and segment_count(text) == 1
