"""Render the bot's texts by language and channel; every SMS is shortened to one segment.

The sentences live in `en.py` and `es.py`. This module fills them in: names, callback number,
program, pickup date (formatted here, without the locale module) and the question. On SMS the
names are folded to GSM-7; the question, then the names, are shortened until the text fits one
segment.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Final

from dialogs.context import LANGUAGES, Channel, Context, Lang, as_lang
from dialogs.sms_rules import PHARMACY_LIMITS, fits_one_segment, shorten, to_gsm7
from dialogs.texts import en, es

_MODULES: Final = {"en": en, "es": es}
# A text is one sentence, or (questions only) several, longest first: on SMS the longest that
# fits one segment with the names is used.
Text = str | tuple[str, ...]
TABLES: Final[Mapping[tuple[Lang, Channel], Mapping[str, Text]]] = {
    (lang, channel): getattr(_MODULES[lang], channel.upper())
    for lang in LANGUAGES
    for channel in ("sms", "voice")
}
# The first question of each form: the first SMS carries it (and so does the reminder).
FIRST_QUESTION: Final = {"quick": "quick", "full": "med_change"}


def format_date(day: datetime.date, language: Lang, channel: Channel) -> str:
    """Format a pickup date: "Mon Dec 7" / "lun 7 dic" by SMS, spelled out by voice."""
    module = _MODULES[language]
    pattern: str = module.DATE[channel]
    return pattern.format(
        weekday=module.WEEKDAYS[channel][day.weekday()],
        month=module.MONTHS[channel][day.month - 1],
        day=day.day,
    )


def render(
    key: str,
    ctx: Context,
    *,
    language: str | None = None,
    channel: Channel | None = None,
    question: str | None = None,
) -> str:
    """Render text `key` for `ctx` (language and channel default to the context's)."""
    lang = as_lang(language or ctx.language)
    chan = channel or ctx.channel
    return _render(
        key,
        lang,
        chan,
        pharmacy=ctx.pharmacy_name,
        phone=ctx.pharmacy_phone,
        patient=ctx.patient_first_name,
        program=ctx.program_name,
        date=format_date(ctx.pickup_date, lang, chan),
        question=question,
        name_required=ctx.shared_phone,
    )


def first_message(ctx: Context, form: str = "quick") -> str:
    """Render the first SMS of a check-in: pharmacy, question 1, callback number, opt-out."""
    return render("first_message", ctx, channel="sms", question=FIRST_QUESTION[form])


def reminder(ctx: Context, form: str = "quick") -> str:
    """Render the reminder SMS sent when the first message got no reply."""
    return render("reminder", ctx, channel="sms", question=FIRST_QUESTION[form])


def voicemail(ctx: Context) -> str:
    """Render the voicemail: only the pharmacy name, a request to call back, and the number."""
    return render("voicemail", ctx, channel="voice")


def help_text(ctx: Context) -> str:
    """Render the HELP answer: pharmacy, program, number, frequency, rates, how to opt out."""
    return render("help", ctx)


def opt_out_confirmation(ctx: Context) -> str:
    """Render the one confirmation sent after an opt-out, with no other content."""
    return render("opt_out", ctx)


def opt_in_confirmation(ctx: Context) -> str:
    """Render the confirmation sent after START or UNSTOP."""
    return render("opt_in", ctx)


def late_reply_ack(ctx: Context) -> str:
    """Render the answer to a message that arrives when no check-in is open."""
    return render("late_ack", ctx)


def unknown_number_reply(pharmacy_name: str, pharmacy_phone: str, language: str) -> str:
    """Render the SMS answer to an unknown number; it reveals nothing about any patient."""
    return _render(
        "unknown_number",
        as_lang(language),
        "sms",
        pharmacy=pharmacy_name,
        phone=pharmacy_phone,
    )


def leave_message(pharmacy_name: str, pharmacy_phone: str, language: str) -> tuple[str, str]:
    """Render the voice prompt for leaving the pharmacist a message, and the goodbye after it."""
    lang = as_lang(language)
    prompt = _render("leave_message", lang, "voice", pharmacy=pharmacy_name, phone=pharmacy_phone)
    goodbye = _render(
        "message_goodbye", lang, "voice", pharmacy=pharmacy_name, phone=pharmacy_phone
    )
    return prompt, goodbye


def _render(
    key: str,
    lang: Lang,
    channel: Channel,
    *,
    pharmacy: str,
    phone: str,
    patient: str = "",
    program: str = "",
    date: str = "",
    question: str | None = None,
    name_required: bool = False,
) -> str:
    table = TABLES[lang, channel]
    template = table[key]
    assert isinstance(template, str), f"{key} is a question, not a text"
    if name_required and channel == "sms" and "{hi}" not in template and patient:
        # A shared phone: every text says whom it is about ("For Ann: ...").
        template = template.replace("{pharmacy}: ", "{pharmacy}: {hi}", 1)
    if question and key == "reask" and f"{question}_reask" in table:
        question = f"{question}_reask"  # the answers spelled out differently for this question
    variants = _variants(table[question]) if question else ("",)
    fields = {"phone": phone, "program": program, "date": date}
    if channel == "sms":
        fields = {name: to_gsm7(value) for name, value in fields.items()}
        pharmacy, patient = to_gsm7(pharmacy), to_gsm7(patient)
    pharmacy, patient = " ".join(pharmacy.split()), " ".join(patient.split())

    def fill(q: str, pharmacy_name: str, patient_name: str) -> str:
        hi = table["hi"] if patient_name and "hi" in table else ""
        assert isinstance(hi, str)
        names = {"pharmacy": pharmacy_name, "patient": patient_name}
        q = q.format(**names, **fields)
        return template.format(hi=hi.format(**names), q=q, **names, **fields)

    if channel != "sms":
        return fill(variants[0], pharmacy, patient)
    # The greeting by name is kept longest (a shared phone needs it), then the question is
    # shortened, then the pharmacy's name; an over-long text still carries its opt-out.
    attempts = [(q, pharmacy, patient) for q in variants]
    if name_required:  # the name stays; the pharmacy's name is shortened, then the name
        attempts += [(variants[-1], shorten(pharmacy, limit), patient) for limit in PHARMACY_LIMITS]
        attempts += [
            (variants[-1], shorten(pharmacy, PHARMACY_LIMITS[-1]), shorten(patient, limit))
            for limit in (12, 8)
        ]
    attempts += [(q, pharmacy, "") for q in variants]
    attempts += [(variants[-1], shorten(pharmacy, limit), "") for limit in PHARMACY_LIMITS]
    text = ""
    for attempt in attempts:
        text = fill(*attempt)
        if fits_one_segment(text):
            return text
    return text


def _variants(text: Text) -> tuple[str, ...]:
    return (text,) if isinstance(text, str) else text
