"""Render the bot's texts by language and channel; every SMS is shortened to one segment.

The sentences live in `en.py` and `es.py`. This module fills them in: names, callback number,
program, pickup date (formatted here, without the locale module) and the question. On SMS the
names are folded to GSM-7 and then shortened until the text fits one segment (`fit_one_segment`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Final

from dialogs.context import LANGUAGES, Channel, Context, Lang, as_lang
from dialogs.sms_rules import fit_one_segment, to_gsm7
from dialogs.texts import en, es

_MODULES: Final = {"en": en, "es": es}
TABLES: Final[Mapping[tuple[Lang, Channel], Mapping[str, str]]] = {
    (lang, channel): getattr(_MODULES[lang], channel.upper())
    for lang in LANGUAGES
    for channel in ("sms", "voice")
}
# The check-in's first question: the first SMS carries it (and so does the reminder).
FIRST_QUESTION: Final = "med_change"


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
    )


def first_message(ctx: Context) -> str:
    """Render the first SMS of a check-in: pharmacy, question 1, callback number, opt-out."""
    return render("first_message", ctx, channel="sms", question=FIRST_QUESTION)


def reminder(ctx: Context) -> str:
    """Render the reminder SMS sent when the first message got no reply."""
    return render("reminder", ctx, channel="sms", question=FIRST_QUESTION)


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
) -> str:
    table = TABLES[lang, channel]
    template = table[key]
    fields = {"phone": phone, "program": program, "date": date}
    fields["q"] = table[question] if question else ""
    if channel == "sms":
        fields = {name: to_gsm7(value) for name, value in fields.items()}
        pharmacy, patient = to_gsm7(pharmacy), to_gsm7(patient)

    def fill(pharmacy_name: str, patient_name: str) -> str:
        hi = table["hi"].format(patient=patient_name) if patient_name and "hi" in table else ""
        return template.format(pharmacy=pharmacy_name, hi=hi, **fields)

    pharmacy, patient = " ".join(pharmacy.split()), " ".join(patient.split())
    if channel == "sms":
        return fit_one_segment(fill, pharmacy, patient)
    return fill(pharmacy, patient)
