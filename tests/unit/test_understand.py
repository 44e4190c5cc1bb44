"""Tables of real-world replies and what they mean, in English and Spanish."""

from __future__ import annotations

import pytest

from dialogs.understand import (
    classify_keyword,
    detect_language,
    is_revocation,
    normalize,
    read_digits,
    read_text,
    wants_person,
)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("Stop.", "stop"),
        (" STOP!! ", "stop"),
        ("StopAll", "stop"),
        ("UNSUBSCRIBE", "stop"),
        ("cancel", "stop"),
        ("End", "stop"),
        ("QUIT", "stop"),
        ("revoke", "stop"),
        ("OPTOUT", "stop"),
        ("opt out", "stop"),
        ("OPT-OUT", "stop"),
        ("NO MAS", "stop"),
        ("No más", "stop"),
        ("¡ALTO!", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("HELP", "help"),
        ("Help?", "help"),
        ("AYUDA", "help"),
        ("info", "help"),
        # Not keywords: more words, or YES (YES is not START here).
        ("YES", None),
        ("stop please", None),
        ("I had to stop my metformin", None),
        ("help me with my refill", None),
        ("no", None),
        ("", None),
    ],
)
def test_it_matches_keywords_on_the_whole_message(text: str, keyword: str | None) -> None:
    assert classify_keyword(text) == keyword


@pytest.mark.parametrize(
    ("text", "revocation"),
    [
        ("STOP", "clear"),
        ("stop please", "clear"),
        ("Unsubscribe me", "clear"),
        ("stop texting me", "clear"),
        ("Please stop sending me messages", "clear"),
        ("take me off your list", "clear"),
        ("Remove me from this list!", "clear"),
        ("don't text me anymore", "clear"),
        ("Do not contact me", "clear"),
        ("no more messages", "clear"),
        ("I don't want any more texts", "clear"),
        ("wrong number", "clear"),
        ("deja de enviarme mensajes", "clear"),
        ("Dejen de escribirme", "clear"),
        ("no me escriban más", "clear"),
        ("No quiero recibir más mensajes", "clear"),
        ("quítenme de la lista", "clear"),
        ("alto por favor", "clear"),
        ("I don't want this", "ambiguous"),
        ("not interested", "ambiguous"),
        ("I never signed up for this", "ambiguous"),
        ("no me interesa", "ambiguous"),
        ("ya basta", "ambiguous"),
        ("I had to stop my metformin", None),
        ("my doctor told me to stop taking it", None),
        ("no", None),
        ("no más, gracias", None),  # "nothing else, thanks": not the whole-message keyword
        ("cancel please", None),  # may be about the refill; CANCEL alone still opts out
        ("call me", None),
        ("", None),
    ],
)
def test_it_tells_clear_revocations_from_ambiguous_ones(text: str, revocation: str | None) -> None:
    assert is_revocation(text) == revocation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me", True),
        ("Please call me", True),
        ("can you call me back?", True),
        ("pharmacist", True),
        ("I want to talk to the pharmacist", True),
        ("speak with someone please", True),
        ("0", True),
        ("llámenme", True),
        ("quiero hablar con el farmacéutico", True),
        ("farmacéutico", True),
        ("my doctor will call me tomorrow", False),
        ("no", False),
        ("yes", False),
    ],
)
def test_it_hears_a_request_for_a_person(text: str, expected: bool) -> None:
    assert wants_person(text) is expected


YES_NO_TABLE = [
    # English yes
    ("Y", "yes", False),
    ("yes", "yes", False),
    ("YES!", "yes", False),
    ("Yeah", "yes", False),
    ("yep", "yes", False),
    ("yup.", "yes", False),
    ("sure", "yes", False),
    ("Correct", "yes", False),
    ("1", "yes", False),
    ("👍", "yes", False),
    ("👍🏽", "yes", False),
    ("✅", "yes", False),
    ("yes please", "yes", False),
    ("Yes I do", "yes", False),
    ("yes my doctor changed my metformin", "yes", True),
    ("I had to stop my metformin", "yes", True),
    ("i need test strips", "yes", True),
    # Spanish yes
    ("si", "yes", False),
    ("Sí", "yes", False),
    ("SI.", "yes", False),
    ("claro", "yes", False),
    ("claro que sí", "yes", False),
    ("sí, el doctor me cambió la dosis", "yes", True),
    ("uno", "yes", False),
    # English no
    ("N", "no", False),
    ("no", "no", False),
    ("NO.", "no", False),
    ("nope", "no", False),
    ("nah", "no", False),
    ("no thanks", "no", False),
    ("No changes thanks", "no", False),
    ("none", "no", False),
    ("nothing", "no", False),
    ("2", "no", False),
    ("👎", "no", False),
    ("❌", "no", False),
    ("I have no changes", "no", False),
    ("I don't think so", "no", False),
    ("all good", "no", False),
    ("no, but I have a question about my insulin", "no", True),
    ("No. When will my order be ready?", "no", True),
    # Spanish no
    ("no gracias", "no", False),
    ("No, gracias.", "no", False),
    ("nada", "no", False),
    ("ninguno", "no", False),
    ("todo bien", "no", False),
    ("no, pero tengo una pregunta", "no", True),
    ("dos", "no", False),
]


@pytest.mark.parametrize(("text", "intent", "details"), YES_NO_TABLE)
def test_it_reads_yes_and_no_with_extra_words(text: str, intent: str, details: bool) -> None:
    reading = read_text(text)
    assert (reading.intent, reading.details) == (intent, details)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ok", "words"),  # "ok" to "any changes?" is not an answer
        ("purple", "words"),
        ("one more thing", "words"),
        ("???", "unclear"),
        ("", "unclear"),
        ("HELP", "help"),
        ("help me please", "help"),
        ("ALTO", "stop"),
        ("START", "start"),
        ("call me", "person"),
        ("yes call me", "person"),
        ("I don't want this", "maybe_stop"),
        ("stop texting me", "stop"),
    ],
)
def test_it_checks_keywords_revocations_and_people_before_yes_or_no(text: str, intent: str) -> None:
    assert read_text(text).intent == intent


@pytest.mark.parametrize(
    ("digits", "intent"),
    [("1", "yes"), ("2", "no"), ("0", "person"), ("9", "stop"), ("5", "unclear"), ("#", "unclear")],
)
def test_it_reads_keypad_answers(digits: str, intent: str) -> None:
    assert read_digits(digits) == intent


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("sí", "es"),
        ("no gracias", "es"),
        ("ayuda", "es"),
        ("ALTO", "es"),
        ("el doctor me cambió la dosis", "es"),
        ("yes", "en"),
        ("no thanks", "en"),
        ("help", "en"),
        ("my doctor changed my dose", "en"),
        ("no", None),
        ("ok", None),
        ("STOP", None),  # Spanish patients are told to send STOP too: it must not switch them
        ("1", None),
        ("", None),
    ],
)
def test_it_detects_the_language_of_a_reply(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_it_normalizes_case_accents_punctuation_and_apostrophes() -> None:
    assert normalize("  ¡Sí, LLÁMENME!  ") == "si llamenme"
    assert normalize("Don't   text me…") == "dont text me"
    assert normalize("👍") == "yes"
