"""Read a patient's reply: keywords, revocations, requests for a person, yes/no, language.

Everything works on a normalised form of the text (see `normalize`): lowercase ASCII words, no
accents, no punctuation, emoji turned into words. The order of the checks matters and lives in
`read_text`: keywords first, then revocations, then a request for a person, then yes/no.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from dialogs.context import Lang

Keyword: TypeAlias = Literal["stop", "start", "help"]
Revocation: TypeAlias = Literal["clear", "ambiguous"]
# What a reply means to a dialog. "words" is text that is neither yes nor no (free text);
# "maybe_stop" is an ambiguous revocation; "unclear" is nothing we can use (empty, low-confidence
# speech, an unknown key).
Intent: TypeAlias = Literal[
    "yes", "no", "words", "stop", "start", "help", "person", "maybe_stop", "unclear"
]

YesNo: TypeAlias = Literal["yes", "no"]


def _phrases(text: str) -> frozenset[str]:
    """Split a comma-separated list of normalised phrases."""
    return frozenset(p.strip() for p in text.split(","))


_EMOJI: Final = {
    "\U0001f44d": " yes ",  # thumbs up
    "\u2705": " yes ",  # white heavy check mark
    "\u2714": " yes ",  # heavy check mark
    "\u2611": " yes ",  # ballot box with check
    "\U0001f44e": " no ",  # thumbs down
    "\u274c": " no ",  # cross mark
    "\u274e": " no ",  # negative squared cross mark
    "\u2716": " no ",  # heavy multiplication x
}

# SPEC 8 keywords, matched against the whole normalised message.
STOP_WORDS: Final = _phrases(
    "stop, stopall, unsubscribe, cancel, end, quit, revoke, optout, opt out, no mas, alto"
)
START_WORDS: Final = _phrases("start, unstop")
HELP_WORDS: Final = _phrases("help, ayuda, info")

# Words that may surround a keyword without changing it ("STOP please", "help me").
_POLITE: Final = _phrases("please, pls, plz, now, thanks, thank, you, thx, me, por, favor, gracias")
# Not "no mas", "end" or "cancel": "no mas, gracias" answers "anything else?" and "cancel please"
# may be about a refill. Those opt out only as whole messages, as SPEC 8 says.
_POLITE_STOP: Final = _phrases("stop, stopall, unsubscribe, quit, revoke, optout, opt out, alto")

_CLEAR_REVOCATIONS: Final = tuple(
    re.compile(p)
    for p in (
        # English
        r"\b(stop|quit|cease|end) (sending|texting|messaging|contacting|calling|bothering)\b",
        r"\bstop (the |these |all |your |all the )?(texts|text messages|messages|msgs|sms|calls)\b",
        r"\b(dont|do not|never) (ever )?(text|message|contact|call|sms) me\b",
        r"\b(take|remove|delete|drop) me (off|from)\b",
        r"\b(unsubscribe|opt me out|opt out|optout)\b",
        r"\bno more (texts|text messages|messages|msgs|sms|calls|texting)\b",
        r"\b(dont|do not) want (any )?(more )?(texts|text messages|messages|calls)\b",
        r"\bleave me alone\b",
        r"\bwrong number\b",
        # Spanish
        r"\b(deja|dejen|deje|dejar|para|paren|pare) de (enviar|mandar|escribir|textear|llamar"
        r"|contactar)",
        r"\bno me (escrib|envi|mand|llam|contact|molest)\w*",
        r"\bno (quiero|deseo) (recibir )?(mas )?(mensajes|textos|llamadas|sms)\b",
        r"\bno mas (mensajes|textos|llamadas|sms)\b",
        r"\b(quitenme|quiteme|quitame|sacame|saquenme|saqueme|borrenme|borreme|borrame) de\b",
        r"\b(dar|darme|denme|deme) de baja\b",
        r"\bnumero equivocado\b",
    )
)
_AMBIGUOUS_REVOCATIONS: Final = tuple(
    re.compile(p)
    for p in (
        r"\b(dont|do not) want (this|these|that|it)\b",
        r"\bnot interested\b",
        r"\b(didnt|did not|never) sign(ed)? up\b",
        r"\bhow did you get (my|this) number\b",
        r"\bwhy (are you|do you keep) (texting|messaging|calling)\b",
        r"\b(spam|scam|go away)\b",
        r"^enough$",
        r"\bno (me interesa|estoy interesad[oa])\b",
        r"\bno quiero (esto|eso)\b",
        r"\bbasta\b",
    )
)

_PERSON_WHOLE: Final = _phrases(
    "0, zero, cero, pharmacist, the pharmacist, a pharmacist, person, a person, human, a human,"
    " someone, agent, operator, representative, callback, farmaceutico, el farmaceutico, persona,"
    " una persona, alguien"
)
_PERSON: Final = tuple(
    re.compile(p)
    for p in (
        # "call me" at the start or after a request word; "my doctor will call me" is not one.
        r"(^|\b(please|pls|can you|could you|would you|can someone|someone|somebody|pharmacist"
        r"|just|yes|yeah|si|and|but) )call me\b",
        r"\bcall me back\b",
        r"\bgive me a call\b",
        r"\b(talk|speak) (to|with) (a |the |someone|somebody|pharmacist|person|human|real)",
        r"\b(llamenme|llameme|llamame)\b",
        r"\bme (puede|pueden|podria|podrian) llamar\b",
        r"\bhablar con\b",
    )
)

# Yes/no phrases matched at the start of a reply; the longest match wins, so "i have no" is no
# while "i have" is yes ("I had to stop my metformin" answers "any changes?" with yes + details).
_YES_PHRASES: Final = _phrases(
    "yes, y, yeah, yea, yep, yup, yes please, sure, correct, affirmative, absolutely, definitely,"
    " of course, indeed, i do, i did, i have, i had, i was, i need, i missed, i think so,"
    " si, sip, claro, claro que si, por supuesto, afirmativo, correcto, asi es, cierto, tengo,"
    " necesito"
)
_NO_PHRASES: Final = _phrases(
    "no, n, nope, nah, nay, nop, negative, none, nothing, never, not really, not at all,"
    " no thanks, no thank you, i dont think so, dont think so, i do not, i dont, i did not,"
    " i didnt, i have not, i havent, i have no, i have nothing, i had no, i was not, i wasnt,"
    " i need nothing, i dont need, all good, im good, i am good, im fine, i am fine, all fine,"
    " everything is fine, everything is good, same, same as before, no change, no changes,"
    " nothing new, nothing changed, nothing else, thats all, that is all,"
    " nada, ninguno, ninguna, ningun, nunca, no gracias, todo bien, estoy bien, todo igual, igual,"
    " sin cambios, nada nuevo, eso es todo, es todo"
)


# Whole replies that only acknowledge ("ok", "thanks", a bare yes or no): after a check-in has
# ended, or while the patient is opted out, there is nothing in them for the pharmacist. A list
# of whole messages, not of words: "no good" or "yes I need strips" are not on it.
ACKNOWLEDGEMENTS: Final = _phrases(
    "ok, okay, okey, k, kk, ok thanks, ok thank you, okay thanks, okay thank you, ok great,"
    " thanks, thank you, thanks so much, thank you so much, thanks again, thx, ty, tysm,"
    " yes, y, yeah, yep, yup, yes thanks, yes thank you, no, n, nope, nah, no thanks,"
    " no thank you, got it, will do, sounds good, great, great thanks, cool, perfect, alright,"
    " all right, noted, good, fine,"
    " si, si gracias, no gracias, gracias, muchas gracias, ok gracias, vale, bueno, listo,"
    " perfecto, de acuerdo"
)


def _index_by_first_word() -> dict[str, list[tuple[YesNo, list[str]]]]:
    """Group the yes/no phrases by their first word, so a reply is checked against a few."""
    answers: tuple[tuple[YesNo, frozenset[str]], ...] = (("yes", _YES_PHRASES), ("no", _NO_PHRASES))
    index: dict[str, list[tuple[YesNo, list[str]]]] = {}
    for answer, phrases in answers:
        for phrase in sorted(phrases):
            words = phrase.split()
            index.setdefault(words[0], []).append((answer, words))
    return index


_PHRASES_BY_FIRST_WORD: Final = _index_by_first_word()
# Only whole replies: "one more thing" is not a yes.
_YES_WHOLE: Final = _phrases("1, one, uno")
_NO_WHOLE: Final = _phrases("2, two, dos")

# Words after yes/no that add nothing ("yes I do", "no changes thanks").
_FILLER: Final = _POLITE | _phrases(
    "yes, no, si, ok, okay, i, do, did, have, had, am, is, are, was, there, it, that, thats, so,"
    " sir, maam, not, at, all, really, think, nothing, none, change, changes, changed, new, same,"
    " good, fine, the, a, an, and, to, of, for, yet, anything, else, everything, this, time,"
    " right, muchas, nada, cambios, cambio, todo, bien, igual, claro, senor, senora, ninguno,"
    " ninguna"
)
_CONTRAST: Final = _phrases("but, except, however, although, pero, excepto, aunque")
_LEADING_NOISE: Final = _phrases("um, uh, umm, hmm, well, oh, ah, pues, bueno")

_KEYPAD: Final[dict[str, Intent]] = {"1": "yes", "2": "no", "0": "person", "9": "stop"}

# Words that mark a language; words shared by both ("no", "me", "doctor") are in neither.
_SPANISH: Final = frozenset(
    "si gracias nada ayuda claro ninguno ninguna ningun tengo tiene mi mis medico medicina "
    "medicinas medicamento medicamentos pastillas farmaceutico farmacia llamenme llameme llamame "
    "hablar quiero necesito estoy bien hola tambien pero con el los las que una por favor para mas "
    "nunca ahora todo cambio cambios cambiaron dosis alto baja sin pregunta preguntas dolor receta "
    "recetas es esta estan fui hace dia dias semana yo le lo del al en de la muchas buenas "
    "nuevo nueva olvide".split()
)
_ENGLISH: Final = frozenset(
    "yes yeah yep yup nope nah thanks thank help the my i im is have has had changed change "
    "changes nothing none please call and to of with what it this not dont any some pharmacist "
    "need was were been missed took taking new sure you your hi hello question when will be ready "
    "pickup refill refills medicine medicines meds pills side effects stopped started text texts "
    "texting message messages sending".split()
)


@dataclass(frozen=True)
class Reading:
    """What one text reply means: its intent, whether a yes/no carries details, its language."""

    intent: Intent
    details: bool = False
    language: Lang | None = None


def normalize(text: str) -> str:
    """Fold `text` to lowercase ASCII words: emoji as words, no accents, no punctuation."""
    if not text.isascii():
        for emoji, word in _EMOJI.items():
            text = text.replace(emoji, word)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("'", "").replace("\u2019", "")  # don't -> dont
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def classify_keyword(text: str) -> Keyword | None:
    """Return the SPEC 8 keyword the whole message is, if any (case, accents, punctuation aside)."""
    return _keyword(normalize(text))


def _keyword(norm: str) -> Keyword | None:
    if norm in STOP_WORDS:
        return "stop"
    if norm in START_WORDS:
        return "start"
    if norm in HELP_WORDS:
        return "help"
    return None


def is_revocation(text: str) -> Revocation | None:
    """Say whether free text revokes consent: "clear", "ambiguous" (a human decides) or None.

    "stop" alone is clear; "I had to stop my metformin" is about a medicine, not about us.
    """
    return _revocation(normalize(text))


def _revocation(norm: str) -> Revocation | None:
    if not norm:
        return None
    if norm in STOP_WORDS or _without_polite(norm) in _POLITE_STOP:
        return "clear"
    if any(p.search(norm) for p in _CLEAR_REVOCATIONS):
        return "clear"
    if any(p.search(norm) for p in _AMBIGUOUS_REVOCATIONS):
        return "ambiguous"
    return None


def wants_person(text: str) -> bool:
    """Return True if the patient asks for a person ("call me", "pharmacist", 0)."""
    return _person(normalize(text))


def _person(norm: str) -> bool:
    return _without_polite(norm) in _PERSON_WHOLE or any(p.search(norm) for p in _PERSON)


def detect_language(text: str) -> Lang | None:
    """Guess whether `text` is English or Spanish; None when it could be either."""
    return _language(normalize(text))


def _language(norm: str) -> Lang | None:
    words = norm.split()
    spanish = sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    if spanish > english:
        return "es"
    if english > spanish:
        return "en"
    return None


def is_acknowledgement(text: str) -> bool:
    """Tell whether the whole message only acknowledges (ACKNOWLEDGEMENTS); questions never do."""
    return not text.rstrip().endswith("?") and normalize(text) in ACKNOWLEDGEMENTS


def read_digits(digits: str) -> Intent:
    """Read a keypad answer: 1 yes, 2 no, 0 a person, 9 opt out."""
    return _KEYPAD.get(digits.strip(), "unclear")


def read_text(text: str) -> Reading:
    """Read a text or speech reply, checking keywords, revocation, person, then yes/no."""
    norm = normalize(text)
    language = _language(norm)
    if not norm:
        return Reading("unclear")
    keyword = _keyword(norm)
    if keyword is None and _without_polite(norm) in HELP_WORDS:
        keyword = "help"  # "help me please"
    if keyword is not None:
        return Reading(keyword, language=language)
    revocation = _revocation(norm)
    if revocation is not None:
        return Reading("stop" if revocation == "clear" else "maybe_stop", language=language)
    if _person(norm):
        return Reading("person", language=language)
    reading = _read_yes_no(norm, has_question=text.rstrip().endswith("?"))
    return Reading(reading.intent, reading.details, language)


def _without_polite(norm: str) -> str:
    return " ".join(w for w in norm.split() if w not in _POLITE)


def _read_yes_no(norm: str, *, has_question: bool) -> Reading:
    """Read the start of a reply as yes or no, and whether the rest adds anything."""
    if norm in _YES_WHOLE:
        return Reading("yes")
    if norm in _NO_WHOLE:
        return Reading("no")
    words = norm.split()
    while words and words[0] in _LEADING_NOISE:
        words = words[1:]
    answer, rest = _longest_prefix(words)
    if answer is None:
        return Reading("words")
    extra = [w for w in rest if w not in _FILLER]
    if answer == "yes":
        return Reading("yes", details=bool(extra))
    # A "no" with more to say ("no, but I have a question") is kept, so the words are not lost.
    remark = any(w in _CONTRAST for w in rest) or (has_question and len(extra) >= 2)
    return Reading("no", details=remark)


def _longest_prefix(words: list[str]) -> tuple[YesNo | None, list[str]]:
    answer: YesNo | None = None
    length = 0
    for candidate, phrase in _PHRASES_BY_FIRST_WORD.get(words[0] if words else "", ()):
        if len(phrase) > length and words[: len(phrase)] == phrase:
            answer, length = candidate, len(phrase)
    return answer, words[length:]
