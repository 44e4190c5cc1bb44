"""Read what a patient says: every finding in a reply, with the words that made it one.

`read(text)` turns one SMS text or voice SpeechResult into a `Reading`: a plain yes or no, the
findings (one per topic, each with the cue that triggered it, so a pharmacist can read *why* a
message became an item), whether the patient is unsure, asks a question, only acknowledges, or
says more than we can file. Deterministic rules, no model: the same words always read the same.

How a reply is read, in order:

1. **Normalise** (`understand.normalize`): lowercase ASCII words, accents and punctuation gone,
   emoji turned into words. Sentence ends and contrast words ("but", "though", "pero") split the
   reply into *clauses*, so "No changes. I was in the hospital though" reads as a no and a
   hospital stay, not as one negated sentence.
2. **Expand and correct** each word: abbreviations ("dr", "bp", "rx", "meds", "idk", "xq") are
   spelled out, and a word we do not know is corrected to a cue word one or two letters away
   ("hospitl", "perscription", "stoped"). Common words are never corrected, so "feel" never
   becomes "fell".
3. **Find cues** per topic (`_CUES`): phrases in English and Spanish such as "stopped taking",
   "new med", "missed a dose", "side effect", "inhaler", "ER", "me cambiaron la dosis". A cue
   preceded in its clause by a negation ("haven't missed any", "no hospital", "nunca") or
   followed by "none" is a *no* for its topic instead of a finding. Words that carry their own
   negation ("no longer taking", "ya no tomo") are cues, not negations.
4. **Uncertainty** ("not sure", "I don't know", "maybe", "no sé") and **questions** ("?", "when
   can I ...") are flags: neither is ever a no. A question is a `concern` finding.
5. **What is left**: a reply with several words we could not file is `substantive` (the caller
   keeps it as a finding rather than ask again); "ok", "thanks", a greeting or a smiley is an
   acknowledgement.

Every finding keeps the patient's whole message (the caller stores it verbatim); `Cue.phrase` is
the part that decided the kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal, TypeAlias

from dialogs.context import Lang
from dialogs.understand import (
    HELP_WORDS,
    _keyword,
    _language,
    _person,
    _read_yes_no,
    _revocation,
    _without_polite,
    normalize,
)

Topic: TypeAlias = Literal["med_change", "adherence", "prn_need", "health_change", "concern"]
TOPICS: Final[tuple[Topic, ...]] = (
    "med_change",
    "adherence",
    "prn_need",
    "health_change",
    "concern",
)
Answer: TypeAlias = Literal["yes", "no"]
Intent: TypeAlias = Literal["stop", "start", "help", "person", "maybe_stop", "who", "answer"]


def _any(alternatives: str) -> str:
    """A regex group of the alternatives written one per " | ", over as many lines as needed."""
    parts = (a.strip() for a in alternatives.replace("\n", "|").split("|"))
    return "(" + "|".join(p for p in parts if p) + ")"


@dataclass(frozen=True)
class Cue:
    """Why a reply holds a finding: its topic and the words (normalised) that showed it."""

    topic: Topic
    phrase: str

    def explain(self) -> str:
        """One sentence for the pharmacist: "read as <topic> because it says '<words>'"."""
        return f"read as {TOPIC_LABELS[self.topic]} because it says \u201c{self.phrase}\u201d"


# For staff, in lists ("not answered: missed doses or side effects, questions").
TOPIC_NAMES: Final[dict[str, str]] = {
    "med_change": "medication changes",
    "adherence": "missed doses or side effects",
    "prn_need": "as-needed needs",
    "health_change": "hospital stays or new conditions",
    "concern": "questions for the pharmacist",
}
TOPIC_LABELS: Final[dict[str, str]] = {
    "med_change": "a medication change",
    "adherence": "a problem taking medicines",
    "prn_need": "an as-needed request",
    "health_change": "a hospital stay or new condition",
    "concern": "a question or other matter",
}


@dataclass(frozen=True)
class Reading:
    """What one reply says.

    `answer` is the plain yes or no it starts with (or is); `findings` one cue per topic it
    reports; `denied` the topics it explicitly says no to ("no hospital"). `uncertain`: the
    patient is not sure; `question`: they ask something; `ack`: nothing but thanks, ok, a
    greeting or a smiley; `substantive`: words beyond those that we could not file.
    """

    intent: Intent = "answer"
    answer: Answer | None = None
    findings: tuple[Cue, ...] = ()
    denied: frozenset[Topic] = frozenset()
    uncertain: bool = False
    question: bool = False
    ack: bool = False
    substantive: bool = False
    contrast: bool = False  # a contrast word ("but", "pero") joins two statements
    remark: bool = False  # a no with more to say that no cue filed ("no, but ...")
    mentions_medicine: bool = False  # names a medicine ("the water pill", "lisinopril")
    emoji_answer: Answer | None = None  # a thumbs-up or -down: a yes or no only where one is asked
    delivery: Literal["delivery", "pickup"] | None = None  # "deliver please", "I'll pick up"
    language: Lang | None = None
    words: tuple[str, ...] = field(default=(), repr=False)

    @property
    def topics(self) -> tuple[Topic, ...]:
        return tuple(cue.topic for cue in self.findings)

    @property
    def plain_no(self) -> bool:
        """A no and nothing else: no finding, no doubt, no question, nothing left unread."""
        return (
            self.answer == "no"
            and not self.findings
            and not self.uncertain
            and not self.question
            and not self.remark
        )

    @property
    def plain_yes(self) -> bool:
        """A yes with nothing to go with it (the caller asks what it is about)."""
        return (
            self.answer == "yes"
            and not self.findings
            and not self.substantive
            and not self.question
        )


# --- Words ------------------------------------------------------------------------------------

# Emoji as words, before normalising: a thumbs-up is a weak yes, a smiley only friendliness,
# a hospital or a pill means what it shows. Other emoji are dropped by `normalize`.
_EMOJI_WORDS: Final = {
    **dict.fromkeys("\U0001f44d\u2705\u2714\u2611", " emojiyes "),
    **dict.fromkeys("\U0001f44e\u274c\u274e\u2716\U0001f6ab", " emojino "),
    **dict.fromkeys(
        "\U0001f44c\U0001f642\U0001f60a\U0001f600\U0001f603\U0001f604\U0001f601\u263a"
        "\U0001f64f\u2764\u2665\U0001f60d\U0001f970\U0001f618\U0001f44b\U0001f917"
        "\U0001f60e\U0001f609\U0001f606\U0001f602\U0001f923",
        " emojiok ",
    ),
    "\U0001f3e5": " hospital ",
    "\U0001f691": " ambulance ",
    "\U0001f48a": " pills ",
}

# Spelled out before anything is matched; multi-word expansions are fine.
_ABBREVIATIONS: Final[dict[str, str]] = {
    "dr": "doctor",
    "drs": "doctors",
    "doc": "doctor",
    "dra": "doctora",
    "bp": "blood pressure",
    "rx": "prescription",
    "rxs": "prescriptions",
    "script": "prescription",
    "scripts": "prescriptions",
    "med": "medicine",
    "meds": "medicines",
    "medz": "medicines",
    "medication": "medicine",
    "medications": "medicines",
    "hosp": "hospital",
    "er": "emergency room",
    "ed": "emergency room",
    "idk": "i dont know",
    "dunno": "dont know",
    "ik": "i know",
    "ty": "thanks",
    "thx": "thanks",
    "thnx": "thanks",
    "tks": "thanks",
    "tnx": "thanks",
    "pls": "please",
    "plz": "please",
    "u": "you",
    "ur": "your",
    "r": "are",
    "b4": "before",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "k": "ok",
    "kk": "ok",
    "okey": "ok",
    "okay": "ok",
    "okie": "ok",
    "okk": "ok",
    "mg": "mg",
    "mgs": "mg",
    "milligrams": "mg",
    "wk": "week",
    "wks": "weeks",
    "yr": "year",
    "prn": "as needed",
    "otc": "over the counter",
    "q": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "tb": "tambien",
    "tmb": "tambien",
    "tmbn": "tambien",
    "pa": "para",
    "d": "de",
    "x": "por",
    "xfa": "por favor",
    "xfavor": "por favor",
    "nitro": "nitroglycerin",
    "ins": "insulin",
    "pcp": "doctor",
    "ive": "i have",
    "im": "i am",
    "id": "i would",
    "didnt": "did not",
    "dont": "do not",
    "doesnt": "does not",
    "havent": "have not",
    "hasnt": "has not",
    "hadnt": "had not",
    "wasnt": "was not",
    "werent": "were not",
    "isnt": "is not",
    "arent": "are not",
    "wont": "will not",
    "cant": "cannot",
    "couldnt": "could not",
    "aint": "am not",
    "nope": "no",
    "nah": "no",
    "naw": "no",
    "yeah": "yes",
    "yep": "yes",
    "yup": "yes",
    "yah": "yes",
    "sip": "si",
}

# Negations: a cue after one of these, in the same clause and within a few words, is a no.
_NEGATORS: Final = frozenset(
    "no not never nothing none nor without neither nobody zero "
    "nunca nada ningun ninguno ninguna ni sin tampoco jamas".split()
)
_NEGATION_WINDOW: Final = 7
# Words that end a negation's reach inside a clause ("no changes and I went to the ER").
_SCOPE_BREAKS: Final = frozenset("and so because since then y porque entonces luego".split())
# After a cue: "hospital stays none", "changes no".
_TRAILING_NO: Final = frozenset("none no nope nothing nada ninguno ninguna na".split())
# Words that split a reply into clauses (the patient turns to something else).
_CONTRAST_WORDS: Final = frozenset(
    "but though although however except besides only pero aunque excepto sino solo salvo".split()
)
_CLAUSE_BREAK: Final = re.compile(r"[.!?;\n]+|,(?=\s)|\s-\s|\s/\s")

_UNCERTAIN: Final = tuple(
    re.compile(p)
    for p in (
        r"\b(not|no|nt) (sure|certain|positive)\b",
        r"\bunsure\b",
        r"\b(do not|dont|did not) (know|remember|recall)\b",
        r"\bno idea\b",
        r"\b(maybe|perhaps|possibly|might have|may have|might be|could be)\b",
        r"\bi (guess|suppose)\b",
        r"\b(cannot|can not) (remember|recall|say)\b",
        r"\b(have|need|got) to (check|ask|look)\b",
        r"\b(let me|ill|i will) (check|ask|look)\b",
        r"\bask my (daughter|son|wife|husband|caregiver|nurse)\b",
        r"\bhmm+\b",
        # Spanish. "no se" is "I don't know" unless a pronoun follows ("no se me olvido").
        r"\bno se\b(?! (me|le|te|lo|la|les|nos|los|las)\b)",
        r"\bno (estoy|estamos) segur[oa]s?\b",
        r"\b(tal vez|quizas?|a lo mejor|puede ser|capaz)\b",
        r"\bno (me acuerdo|recuerdo|sabria)\b",
        r"\b(tengo|tendria|tendre) que (revisar|pregunt\w*|ver|checar)\b",
        r"\b(le|les) (aviso|digo|confirmo)\b|\bdeje (le )?pregunt\w*",
        r"\b(i will|ill|let me) (let you know|get back to you|find out)\b",
    )
)
# "Who is this?": the patient does not know who is texting; the caller says so and asks again.
_WHO: Final = re.compile(
    r"^(who|whos|who is|who are|quien|quienes|quien es|quien habla|what is this|whats this"
    r"|que es esto|who is this|who are you|is this (the )?pharmacy|es la farmacia)"
    r"( this| you| es| habla| sending| texting| is texting| me)*$"
)
_QUESTION_START: Final = re.compile(
    r"^"
    + _any(
        r"""
        when | where | why | how | what | whats | which | who | is | are | does | do you | do i
        (can|could|will|would|should) (you|i|we|someone|somebody|they|it) | did you | is it
        am i | cuando | donde | porque | por que | como | que hora | cual | cuanto | cuanta
        puedo | puede | pueden | podria | hay | tienen | esta listo | estan listas | me pueden
        """
    )
    + r"\b"
)
# "Deliver please", "I'll pick them up", "entregar", "voy a recoger": how the patient wants the
# refills this time (SPEC 13). A question about it ("can you deliver?") is a question too.
_DELIVERY: Final = re.compile(
    r"\b(deliver|delivery|delivered|bring (it|them)|mail (it|them)|send (it|them) (to me|home)"
    r"|entregar|entrega|entreguen|a domicilio|a la casa|llevar(lo|la|los|las)? a (mi )?casa)\b"
)
_PICKUP: Final = re.compile(
    r"\b((i will|ill|we will|i can|i am going to|going to|gonna) pick (it |them )?up"
    r"|pick ?up|picking (it |them )?up|come (in|by) for (it|them)|recoger|recojo"
    r"|paso por (ellas|ellos|la farmacia))\b"
)
_NOT_DELIVERY: Final = re.compile(r"\b(no|not|dont|do not|sin) (deliver|delivery|entrega)\w*")


def _delivery_choice(text: str) -> Literal["delivery", "pickup"] | None:
    if _DELIVERY.search(text) and not _NOT_DELIVERY.search(text):
        return "delivery"
    if _PICKUP.search(text) or _NOT_DELIVERY.search(text):
        return "pickup"
    return None


_QUESTION_WORDS: Final = re.compile(
    r"\b(question|questions|wondering|wonder if|wants? to know|would like to know|need to know"
    r"|pregunta|preguntas|duda|dudas|quiere saber|quisiera saber)\b"
)

# Thanks, ok, greetings, smileys: nothing to file, nothing asked.
_ACK_WORDS: Final = frozenset(
    "ok okay alright allright fine thanks thank you thankyou very much great good cool nice "
    "perfect awesome wonderful got it will do sounds sure hello hi hey morning afternoon evening "
    "good day have a nice blessed bless god happy thanksgiving christmas merry new year "
    "all yall everyone everybody guys folks holidays easter "
    "welcome love appreciate appreciated lol haha smile smiley heart wink "
    "gracias muchas hola buenos buenas dias tardes noches bendiciones dios bendiga vale bueno "
    "listo perfecto excelente saludos feliz igualmente de nada le lo te que tenga buen dia"
    " navidad todos ustedes ano prospero felices fiestas"
    " emojiok".split()
)

# Words never corrected toward a cue (they are real words of their own).
_COMMON: Final = frozenset(
    """
    a about after again all also am an and any anything are around as ask at away back be been
    before being better but by call came can cannot come could daughter day days did do does
    doing done down each else even ever every everything feel feeling feels fine first for found
    from get gets getting give given go goes going gone good got had has have having he her here
    him his home how i if in into is it its just keep kept know last left less let like little
    look lot lots made make many may me mine month months more most much must my need needed
    needs new next nice no none not now of off ok on once one only or other our out over own
    past pick please put really right said same saw say says see seen she should since so some
    son still such sure take taken takes taking tell than thank thanks that the their them then
    there these they thing things think this those though time times to today told too took two
    up us use used very visit want wanted was way we week weeks well went were what when where
    which while who why will wife husband with without work would yes yet you your fell fill
    feet feel fall fella filled pill pills kill bill will well wall mail meal sell tell bell
    miss mess moss mist most must test rest best text next sent send spend sense felt
    a el la los las un una unos unas de del al y o que en por para con sin mi mis su sus yo tu
    me te se le lo nos les es son fue era estoy esta estan estuve tengo tiene tienen tuve hay
    muy mas menos bien mal todo todos nada algo alguien nadie ya aun todavia hoy ayer manana
    semana mes dia dias hace desde hasta cuando como donde porque pero si no gracias hola bueno
    """.split()
)


# --- Cues -------------------------------------------------------------------------------------

# Objects of a medicine sentence: what "changed", "new", "stopped" must be about.
# Medicines patients name: common chronic and as-needed drugs (generic and brand), and the
# endings of drug names. A name alone tells the sentence is about a medicine, not its topic.
_DRUG_NAMES: Final = (
    "metformin lisinopril amlodipine atorvastatin simvastatin rosuvastatin pravastatin"
    " lovastatin losartan valsartan olmesartan irbesartan telmisartan metoprolol carvedilol"
    " atenolol propranolol bisoprolol hydrochlorothiazide hctz chlorthalidone furosemide lasix"
    " bumetanide torsemide spironolactone triamterene warfarin coumadin eliquis apixaban xarelto"
    " rivaroxaban plavix clopidogrel aspirin levothyroxine synthroid omeprazole pantoprazole"
    " famotidine gabapentin lyrica pregabalin sertraline zoloft escitalopram lexapro citalopram"
    " fluoxetine prozac trazodone bupropion wellbutrin duloxetine cymbalta venlafaxine"
    " mirtazapine buspirone insulin lantus humalog novolog levemir basaglar tresiba toujeo"
    " ozempic trulicity victoza mounjaro jardiance farxiga januvia glipizide glyburide"
    " glimepiride pioglitazone prednisone albuterol symbicort advair breo spiriva montelukast"
    " singulair tamsulosin flomax finasteride donepezil aricept memantine allopurinol colchicine"
    " meloxicam ibuprofen naproxen tramadol oxycodone hydrocodone percocet norco potassium"
    " entresto digoxin amiodarone diltiazem verapamil hydralazine isosorbide clonidine"
    " doxazosin benazepril enalapril ramipril quinapril ezetimibe zetia fenofibrate"
    " levetiracetam keppra lamotrigine topiramate quetiapine seroquel risperidone aripiprazole"
    " lithium alprazolam xanax lorazepam ativan clonazepam klonopin zolpidem ambien"
    " amitriptyline cyclobenzaprine baclofen tizanidine methotrexate hydroxychloroquine"
    " alendronate fosamax latanoprost timolol oxybutynin myrbetriq sildenafil ondansetron"
    " meclizine fluticasone budesonide estradiol amoxicillin azithromycin doxycycline"
    " ciprofloxacin cephalexin nitrofurantoin bactrim prednisolone losartana metformina"
    " insulina aspirina warfarina atorvastatina simvastatina amlodipino"
)
_DRUG: Final = (
    r"(" + "|".join(_DRUG_NAMES.split()) + r"|\w+(pril|sartan|olol|statin|formin|gliptin"
    r"|flozin|prazole|dipine|codone|lukast|glutide|xaban|gatran|zosin|thiazide|semide)s?)"
)
_MED: Final = (
    r"(medicines?|pills?|tablets?|capsules?|prescriptions?|drugs?|doses?|dosage|dosis|shots?"
    r"|injections?|insulin|mg|units?|drops|eye drops|patch(es)?|sprays?|creams?|pens?"
    r"|water pill|sugar pill|heart pill|thyroid pill|blood thinner|statin"
    r"|blood pressure (pill|medicine)|medicinas?|medicamentos?|pastillas?|tabletas?|recetas?"
    r"|inyeccion(es)?|insulina|gotas|parches?|tratamiento|\w+ (mg|pill|medicine|pastilla)"
    r"|" + _DRUG + r")"
)
_ES_ME: Final = r"(me|le|nos)( (la|lo|las|los))?"

_CUES: Final[dict[Topic, tuple[tuple[str, bool], ...]]] = {
    # (pattern, self_negated): a self-negated cue carries its own "no" and is not negated again.
    "med_change": (
        (
            r"\b(stop|stopped|stopping|quit|quitted|discontinued?|discontinuing)"
            r" (taking|using|the|my|his|her|it|that|one|all|\w+ (pill|medicine|mg))",
            False,
        ),
        (r"\b(stopped|discontinued) (it|them|that one|\w+in|\w+ol|\w+ide|\w+pril|\w+tan)\b", False),
        (r"\bi (stopped|quit)\b", False),
        (
            r"\b(took|take|taken|taking|came|come|coming|went|go|going|got|get|getting)"
            r" (me |him |her )?off( of)?\b",
            False,
        ),
        (r"\boff (of )?(my|the|his|her|that) " + _MED, False),
        (r"\b(no longer|not) (taking|on|using|take)\b", True),
        (r"\bnot taking (it|them|that|my|the)\b", True),
        (
            r"\b(start|started|starting|began|begun|begin)"
            r" (me )?(on|taking|using|a new|new|a|an|insulin|\w+ (mg|pill|medicine))\b",
            False,
        ),
        (r"\b(put|puts|putting|started|switched) (me|him|her) on\b", False),
        (r"\bnew " + _MED + r"\b", False),
        (r"\b(add|added|adding|adds)\b", False),
        (
            r"\b(prescribed|prescribe|prescribing|gave me|given me|give me) (a |an |me |some |"
            r"new )*" + _MED,
            False,
        ),
        (r"\bprescribed\b", False),
        (
            r"\b(changed|change|changes|changing|switched|switch|swapped|replaced|adjusted"
            r"|increased|increase|decreased|decrease|raised|lowered|reduced|doubled|halved|upped"
            r"|bumped|cut) (\w+ ){0,3}" + _MED,
            False,
        ),
        (
            _MED + r" (was |were |got |has been |have been |is )?(changed|switched|increased"
            r"|decreased|raised|lowered|reduced|doubled|halved|adjusted|stopped|discontinued"
            r"|cut|upped|bumped up|went up|went down)",
            False,
        ),
        (
            r"\b(doctor|doctors|cardiologist|specialist|endocrinologist|nephrologist|nurse"
            r"|hospital|he|she|they) (\w+ ){0,2}(changed|switched|increased|decreased|lowered"
            r"|raised|stopped|added|upped|cut|doubled|took me off|reduced|adjusted)\b",
            False,
        ),
        (r"\bcut (it|them|the dose|my dose|back|down|in half)\b", False),
        (r"\bfrom \d+ (mg )?to \d+\b", False),
        (r"\b" + _DRUG + r" (\w+ ){0,2}(went |is |was |now )?(up|down) to \d+", False),
        (r"\b(up|down|upped|raised|lowered|increased|decreased) to \d+\b", False),
        (r"\b(now|instead)\b(\w+ ){0,3}" + _DRUG, False),
        (r"\b" + _DRUG + r" (\w+ ){0,4}(instead|now)\b", False),
        (
            r"\b(on|off|started|stopped|quit|new|switched to|sent me home with|came home with"
            r"|home on|gave me|put me on) (the |my |some |a )?" + _DRUG,
            False,
        ),
        (
            r"\b(doctor|doctors|he|she|they) (\w+ ){0,2}wants? me (to )?(take|taking|on|off|stop"
            r"|start|try|use|using)\b",
            False,
        ),
        (
            r"\b(at night|in the morning|twice a day|once a day|every other day|three times a day)"
            r" (now|instead)\b",
            False,
        ),
        (r"\binstead of\b", False),
        (r"\b(ahora|en vez de|en lugar de) (\w+ ){0,2}(tomo|toma|me (la |lo )?tomo|uso)\b", False),
        (r"\b(con|desde) (la|el) (pastilla |medicina |medicamento )?nuev[oa]\b", False),
        (r"\b(la|el|las|los) nuev[oa]s?\b", False),
        (r"\b(increase|decrease|change|changes) in (my )?" + _MED, False),
        # Spanish
        (r"\b(deje|dejo|dejamos|dejaron|he dejado|ha dejado) de (tomar|usar|inyectar)", False),
        (r"\bya no (tomo|toma|uso|usa|me (la |lo )?tomo|estoy tomando|me inyecto)\b", True),
        (
            r"\b" + _ES_ME + r" (quit(o|aron|aro)|suspend(io|ieron)|retir(o|aron)"
            r"|aument(o|aron)|baj(o|aron)|sub(io|ieron)|agreg(o|aron)|receto|recetaron|dobl(o|aron)"
            r"|redujo|redujeron|puso|pusieron|mand(o|aron)|empez(o|aron))\b",
            False,
        ),
        # "Me cambiaron" alone may be the insurance or the address: a medicine must follow.
        (r"\b(me|le|nos) (la|lo|las|los) cambi(o|aron)\b", False),
        (r"\b(me|le|nos) cambi(o|aron) (\w+ ){0,3}" + _MED, False),
        (r"\b(suspendi|suspendio|suspendieron|suspendida|suspendido)\b", False),
        (r"\b(empece|empezo|comence|comenzo|inicie|inicio) (a|con|la|el|una|un)\b", False),
        (
            r"\b(nuev[oa]s?) (medicinas?|medicamentos?|pastillas?|tabletas?|recetas?|dosis"
            r"|insulina|tratamiento|inyeccion)\b",
            False,
        ),
        (
            r"\b(medicinas?|medicamentos?|pastillas?|tabletas?|recetas?|dosis|insulina"
            r"|tratamiento) (nuev[oa]s?|diferentes?)\b",
            False,
        ),
        (
            r"\bcambi(o|aron|e|ado|ada|os?) (\w+ ){0,2}(dosis|medicinas?|medicamentos?|pastillas?"
            r"|recetas?|tratamiento|insulina|mg)",
            False,
        ),
        (
            r"\b(dosis|medicinas?|medicamentos?|pastillas?|recetas?|tratamiento) (\w+ ){0,2}"
            r"(cambio|cambiaron|cambiada|cambiado|aumentaron|bajaron|subieron)",
            False,
        ),
        (
            r"\b(el |la |mi )?(doctor|doctora|medico|cardiologo|especialista)"
            r" (\w+ ){0,2}(cambio|quito|suspendio|aumento|bajo|subio|agrego|receto|dio|mando)\b",
            False,
        ),
        (r"\bde \d+ (mg )?a \d+\b", False),
    ),
    "adherence": (
        (
            r"\b(miss|missed|missing|misses|skip|skipped|skipping|forgot|forget|forgotten"
            r"|forgetting|forgets)\b",
            False,
        ),
        (r"\bside ?effects?\b", False),
        (r"\b(makes?|made|making|make) me (feel )?\w+", False),
        (
            r"\b"
            + _any(
                r"""
                dizzy | dizziness | lightheaded | light headed | nausea | nauseous | nauseated
                vomit\w* | throwing up | threw up | rash | rashes | itch\w* | hives | diarrhea
                constipat\w* | cough | coughing | upset stomach | headaches? | cramps | cramping
                stomach (ache|pain|upset|issues|problems|hurts) | muscle (pain|aches?|cramps?)
                fatigue | drowsy | sleepy | insomnia | swollen | swelling | bloated | bloating
                heartburn | dry mouth | bruis\w* | bleeding | jittery | shaky | cannot sleep
                tired all the time | hair loss | weight gain | allergic | reaction
                upsets? my stomach | does not agree with me | disagrees with me | not agreeing
                """
            )
            + r"\b",
            False,
        ),
        (
            r"\b(left ?over|leftovers|extra|too many|plenty of|lots of|a lot of|bunch of|still have"
            r"|still got|have some|have a lot|have plenty|have enough|have extra)"
            r" (\w+ ){0,2}(pills?|tablets?|capsules?|medicines?|bottles?|left)\b",
            False,
        ),
        (r"\b(pills?|tablets?|medicines?|bottles?) (\w+ )?left\b", False),
        (
            r"\b(trouble|hard|difficult|difficulty|problems?|cannot|unable|struggl\w*) (\w+ ){0,2}"
            r"(taking|take|swallow\w*|open\w*|afford\w*|pay\w*|keeping up)\b",
            False,
        ),
        (r"\b(trouble|hard|cannot|problems?) remember\w* (to take|taking|if i took)\b", False),
        (r"\b(too expensive|cannot afford|can not afford|costs? too much|too costly)\b", False),
        (
            r"\b(ran out|run out|running out|been out) (of )?(my |the )?\w+ (for )?(\w+ )?"
            r"(days?|weeks?)\b",
            False,
        ),
        (
            r"\b(taking|take|took) (it |them )?(only )?(every other|half|once in a while"
            r"|when i remember|sometimes|less)\b",
            False,
        ),
        (
            r"\b(did not|do not|have not|never) (take|taken|took|been taking|taking) (it|them|my"
            r"|the|any) (\w+ )?(for|since|last|in)\b",
            True,
        ),
        # Spanish
        (r"\b(olvid\w*|se me (olvido|olvidaron|paso|pasaron|pasa)|salte|me salte|saltee)\b", False),
        (
            r"\b(falte|falto|faltaron|he faltado|deje) (\w+ ){0,2}(dias?|dosis|semanas?|veces)\b",
            False,
        ),
        (r"\bno (me )?(e|he|ha|hemos) (tomado|estado tomando|usado)\b", True),
        (r"\b(me|le) (duele|duelen|dolio)\b", False),
        (
            r"\b(sobran|sobraron|quedan|quedaron|sobro) (muchas|muchos|bastantes|varias|varios"
            r"|demasiadas)\b",
            False,
        ),
        (
            r"\bno (me )?(la |lo |las |los )?(tome|tomo|he tomado|tomaba|tomado) (\w+ ){0,3}(dias?"
            r"|semanas?|veces|ayer|hace)\b",
            True,
        ),
        (r"\befectos? (secundarios?|adversos?)\b", False),
        (
            r"\b(me|le) (da|dan|dio|dieron|hace|hacen|hizo|causa|causan|causo|provoca) (\w+ )?"
            r"(mareos?|nauseas?|dolor|sueno|tos|comezon|ronchas|diarrea|estrenimiento|mal|vomito"
            r"|hinchazon|picazon|alergia)\b",
            False,
        ),
        (
            r"\b(mareos?|mareada|mareado|nauseas?|vomit\w*|ronchas|comezon|picazon|diarrea"
            r"|estrenid\w*|estrenimiento|hinchad[oa]s?|hinchazon|tos|dolor de (estomago|cabeza)"
            r"|me cae mal|me caen mal|me siento mal con)\b",
            False,
        ),
        (
            r"\b(me |todavia |aun |tengo )?(sobran|quedan|sobraron|sobro|tengo (muchas|bastantes"
            r"|suficientes))( \w+){0,2} (pastillas|medicinas|tabletas|medicamentos|pildoras)\b",
            False,
        ),
        (r"\b(pastillas|medicinas|tabletas) de sobra\b", False),
        (
            r"\b(no puedo|me cuesta|dificil|problemas? (para|al)) (tomar|tragar|pagar|abrir)\b",
            False,
        ),
        (r"\b(muy caro|muy caras?|no me alcanza)\b", False),
    ),
    "prn_need": (
        (
            r"\b"
            + _any(
                r"""
                inhalers? | rescue inhaler | albuterol | proair | ventolin | nebulizer | neb
                test strips? | strips | lancets? | glucose (strips|tabs|tablets|meter) | meter
                pen needles | needles | syringes | nitroglycerin | epipen | epi pen | glucagon
                narcan | eye drops | ointment | cream | catheters? | ostomy | tylenol | ibuprofen
                (diabetic|diabetes|testing|medical|ostomy|cpap) supplies | pain (pills?|medicine)
                advil | as needed | zofran | rescue
                """
            )
            + r"\b",
            False,
        ),
        (
            r"\b(inhaladore?s?|bombita|bomba para (el asma|respirar)|tiras( reactivas)?|lancetas"
            r"|agujas|jeringas?|nitroglicerina|glucometro|insumos|gotas para (los ojos|ojos)"
            r"|crema|pomada|cuando (la |lo )?necesito)\b",
            False,
        ),
        (
            r"\b(need|needs|want|could use|out of|running low|low on|almost out|ran out)"
            r" (\w+ ){0,2}(more |another |some |a new |new )?(refill|supply|box|bottle)\b",
            False,
        ),
    ),
    "health_change": (
        (
            r"\b"
            + _any(
                r"""
                hospital | hospitals | hospitalized | hospitalised | admitted | emergency room
                emergency | urgent care | ambulance | 911 | icu | intensive care | surgery
                surgeries | operation | operated | procedure | stent | bypass | pacemaker
                heart attack | stroke | mini stroke | tia | fell | fall | fallen | falling | tumble
                took a spill | slipped | broke | broken | fracture\w* | diagnosed | diagnosis
                new condition | cancer | chemo\w* | radiation | dialysis | pneumonia | covid
                infection | uti | blood clot | clots? | dvt
                kidney (stones?|failure|problems?|disease)
                pregnant | pregnancy | seizures? | passed out | faint\w* | chest pains?
                short of breath | shortness of breath | rehab | nursing home | skilled nursing
                discharged | biopsy | transplant | amputat\w* | illness | flu(?! shot| vaccine)
                (been|was|got|am|feeling|feel) (very |so |real )?sick | diabetes | diabetic now
                high blood pressure now | sugar (\w+ ){0,3}(high|low|up|down|over \d+)
                blood pressure (\w+ ){0,3}(high|low|up|down)
                """
            )
            + r"\b",
            False,
        ),
        # Spanish
        (
            r"\b(hospital\w*|internad[oa]|emergencias?|urgencias?|ambulancia|cirugia|operacion"
            r"|me operaron|operad[oa]|infarto|ataque al corazon|derrame|embolia|me cai|se cayo"
            r"|caida|fractura\w*|me rompi|se rompio|me quebre|diagnostic\w*|cancer|quimio\w*"
            r"|dialisis|neumonia|infeccion|embarazada|convulsion\w*|desmay\w*|dolor de pecho"
            r"|presion (\w+ ){0,3}(alta|baja)|azucar (\w+ ){0,3}(alta|baja|subio|bajo)|diabetes"
            r"|me internaron|estuve internad[oa]|sala de emergencia)\b",
            False,
        ),
    ),
    "concern": (
        (r"\b(flu shot|vaccines?|vaccinations?|booster|shingles shot|vacuna|vacunas)\b", False),
        # "No good", "not feeling well", "me siento mal": how the patient is, for a person.
        (
            r"\b((no|not) (good|well|great|so good|so well|feeling (good|well))"
            r"|(feel|feeling|doing) (bad|poorly|terrible|awful|worse)"
            r"|(me siento|estoy|ando) (mal|muy mal|peor)|no me siento bien)\b",
            True,
        ),
        (
            r"\b(how much|cost|costs|price|prices|copay|co pay|insurance|medicare|medicaid|part d"
            r"|bill|billing|charge|charged|coupon|generic|brand name|cheaper|prior auth"
            r"|authorization|deliver|delivery|delivered|mail it|pick ?up time|hours|open on"
            r"|vacation|traveling|travel|trip|out of town|going away|moving|moved|new address"
            r"|early refill|transfer|refill (it|them) early|ready early)\b",
            False,
        ),
        (
            r"\b(cuanto (cuesta|cuestan|es|cobran|vale)|costo|precio|seguro|aseguranza|copago"
            r"|medicare|medicaid|factura|cobro|cobraron|generic[oa]|mas barat[oa]|entrega|entregar"
            r"|a domicilio|viaje|viajar|vacaciones|fuera de la ciudad|mudanza|me mude|horario"
            r"|a que hora)\b",
            False,
        ),
    ),
}


_MENTIONS_MEDICINE: Final = re.compile(r"\b" + _MED + r"\b")


@lru_cache(maxsize=1)
def _compiled() -> dict[Topic, tuple[tuple[re.Pattern[str], bool], ...]]:
    return {
        topic: tuple((re.compile(pattern), own) for pattern, own in cues)
        for topic, cues in _CUES.items()
    }


# Words patients often misspell, long enough that one or two wrong letters still identify them.
# Only these are corrected to: a wider list would turn real words into cues ("couch", "cough").
_TYPO_TARGETS: Final = frozenset(
    """
    hospital hospitalized emergency surgery operation prescription prescriptions medicine
    medicines stopped stopping started starting changed changing increased decreased lowered
    reduced switched discontinued missed missing skipped forgot forgotten dizzy dizziness
    nausea nauseous vomiting diarrhea constipated headache headaches swelling swollen inhaler
    inhalers albuterol nebulizer strips lancets needles syringes insulin nitroglycerin pressure
    diabetes diabetic cholesterol pneumonia infection diagnosed diagnosis stroke attack cancer
    admitted ambulance appointment pharmacist pharmacy refill refills question questions
    insurance delivery deliver tablets capsules leftover effects doctor cardiologist specialist
    prescribed prescribe dosage medicinas medicina medicamento medicamentos pastillas pastilla
    receta recetas hospital emergencia urgencias cirugia operaron olvide olvido efectos
    secundarios inhalador tiras lancetas agujas insulina presion azucar diabetes diagnosticaron
    cambiaron cambio suspendieron aumentaron bajaron doctora mareos nauseas pregunta seguro
    """.split()
)


# --- Reading ----------------------------------------------------------------------------------


def read(text: str) -> Reading:
    """Read one reply (SMS text or speech): keywords first, then answers, cues and flags."""
    text = _emoji_as_words(text)
    norm = normalize(text)
    language = _language(norm)
    if not norm:
        return Reading(ack=not text.strip() == "", language=language)
    intent = _intent_of(norm)
    if intent is not None:
        return Reading(intent=intent, language=language)
    words = tuple(_expand(norm.split()))
    expanded = " ".join(words)
    if _person(expanded):
        return Reading(intent="person", language=language)
    if _WHO.match(expanded):
        return Reading(intent="who", language=language, question=True, words=words)
    clauses = _clauses(text)
    answer = _answer(clauses)
    findings: dict[Topic, Cue] = {}
    denied: set[Topic] = set()
    for index, clause in enumerate(clauses):
        # "Hospital? No." / "ER visits - none": a short clause answered by the next one.
        answered_no = (
            index + 1 < len(clauses)
            and len(clause) <= 4
            and " ".join(clauses[index + 1]) in _BARE_NO
        )
        _read_clause(clause, findings, denied, answered_no=answered_no)
    question = _is_question(text, clauses)
    if question and "concern" not in findings:
        findings["concern"] = Cue("concern", _question_phrase(clauses))
    uncertain = any(p.search(expanded) for p in _UNCERTAIN)
    leftover = _unfiled_words(words)
    ack = not findings and answer is None and not uncertain and all(w in _ACK_WORDS for w in words)
    contrast = any(w in _CONTRAST_WORDS for w in words)
    if denied and not findings and not uncertain:
        # "I haven't missed any", "no hospital", "yes, I have plenty of strips": a no.
        answer = "no"
    # "No. My feet have been tingling": more words after the no than thanks and filler.
    later = [w for clause in clauses[1:] for w in clause]
    remark = answer == "no" and (
        (contrast and len(leftover) >= 2) or len(_unfiled_words(tuple(later))) >= 3
    )
    emoji_answer: Answer | None = (
        "yes" if "emojiyes" in words else "no" if "emojino" in words else None
    )
    # A stated choice ("deliver please") is not a question for the pharmacist; asking about it
    # ("can you deliver?") is.
    delivery = None if question else _delivery_choice(expanded)
    if delivery is not None and "concern" in findings:
        if _DELIVERY.search(findings["concern"].phrase) or _PICKUP.search(
            findings["concern"].phrase
        ):
            del findings["concern"]
    return Reading(
        delivery=delivery,
        emoji_answer=emoji_answer,
        answer=answer,
        findings=tuple(findings[t] for t in TOPICS if t in findings),
        denied=frozenset(denied - set(findings)),
        uncertain=uncertain,
        question=question,
        ack=ack,
        substantive=len(leftover) >= 2,
        contrast=contrast,
        remark=remark,
        mentions_medicine=bool(_MENTIONS_MEDICINE.search(expanded)),
        language=language,
        words=words,
    )


def _intent_of(norm: str) -> Intent | None:
    """What the whole reply asks for, whatever the question: a keyword, an opt-out in words
    (clear or ambiguous), or a person."""
    keyword = _keyword(norm)
    if keyword is None and _without_polite(norm) in HELP_WORDS:
        keyword = "help"
    if keyword is not None:
        return keyword
    revocation = _revocation(norm)
    if revocation is not None:
        return "stop" if revocation == "clear" else "maybe_stop"
    return "person" if _person(norm) else None


def _emoji_as_words(text: str) -> str:
    if text.isascii():
        return text
    return "".join(_EMOJI_WORDS.get(char, char) for char in text)


def _expand(words: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        word = _ABBREVIATIONS.get(word, word)
        if " " in word:
            out.extend(word.split())
            continue
        out.append(_corrected(word))
    return out


@lru_cache(maxsize=4096)
def _corrected(word: str) -> str:
    """A word we do not know, one or two edits from a cue word, is that cue word."""
    if len(word) < 5 or word in _COMMON or word in _TYPO_TARGETS or not word.isalpha():
        return word
    vocabulary = _TYPO_TARGETS
    allowed = 1 if len(word) < 8 else 2
    best: tuple[int, str] | None = None
    for candidate in vocabulary:
        if abs(len(candidate) - len(word)) > allowed or candidate[0] != word[0]:
            continue
        if _inflection(word, candidate):
            continue  # "cambios" is not a typo of "cambio", nor "segura" of "seguro"
        distance = _edits(word, candidate, allowed)
        if distance <= allowed and (best is None or (distance, candidate) < best):
            best = (distance, candidate)
    return best[1] if best else word


_SUFFIXES: Final = ("ing", "ed", "es", "os", "as", "s", "d", "a", "o", "e")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _inflection(word: str, candidate: str) -> bool:
    """Another form of the same word ("changes" / "changed", "segura" / "seguro")."""
    return _stem(word) == _stem(candidate)


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters is one edit), capped."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _clauses(text: str) -> list[list[str]]:
    """Split a reply into clauses of expanded words at sentence ends and contrast words."""
    clauses: list[list[str]] = []
    for part in _CLAUSE_BREAK.split(text):
        current: list[str] = []
        for word in _expand(normalize(part).split()):
            if word in _CONTRAST_WORDS and current:
                clauses.append(current)
                current = []
                continue
            current.append(word)
        if current:
            clauses.append(current)
    return clauses


# After a leading yes/no, these words start a new statement: "no I stopped it" is a no and a
# report, while "no hospital" is a negated cue.
_SUBJECTS: Final = frozenset(
    "i we my he she they the doctor doctors but just only thanks thank please ok everything "
    "all nothing yo el ella mi mis pero solo gracias todo nada ya tengo estoy me le si".split()
)


def _answer(clauses: list[list[str]]) -> Answer | None:
    """The yes or no the reply starts with, if any ("no changes", "yes I did", "nope")."""
    if not clauses:
        return None
    reading = _read_yes_no(" ".join(clauses[0]), has_question=False)
    if reading.intent == "no":
        return "no"
    if reading.intent == "yes":
        return "yes"
    # "Nothing has changed", "All the same here": a no that does not start the reply.
    joined = " ".join(" ".join(c) for c in clauses)
    if re.search(
        r"\b(nothing|nada) (\w+ )?(new|changed|has changed|different|to report|nuevo)\b"
        r"|\b(no|not any|without) (changes?|cambios?)\b|\bsame as (before|always|last)\b"
        r"|\b(everything|all|todo) (is |esta )?(the same|good|fine|ok|igual|bien)\b"
        r"|\bsin (cambios|novedad)\b|\b(not|none) that i (know|am aware) of\b"
        r"|^(i )?do not think so\b|^(creo|pienso) que no\b"
        r"|^(i |we |he |she )?(do|did|have|had|was|am|are|were|has) not\b"
        r"|^not (this time|now|today|yet|this month|really)\b|\bsame (old|ole)\b"
        r"|\b(sigue|siguen|esta|estan) (todo )?igual\b|\b(lo mismo|igual que siempre)\b"
        r"|^(i )?(still have|still got|have plenty|have enough|got plenty)\b"
        r"|^(todavia|aun) (tengo|me quedan?)\b|^tengo suficientes?\b|^know (changes?|thanks)\b"
        r"|\b(ya |eso )?es todo\b|\bseria todo\b|^nada mas\b",
        joined,
    ):
        return "no"
    return None


_BARE_NO: Final = frozenset(
    "no,none,nope,nothing,nada,ninguno,ninguna,no no,no none,not really,never,nunca".split(",")
)


def _read_clause(
    clause: list[str], findings: dict[Topic, Cue], denied: set[Topic], *, answered_no: bool
) -> None:
    """Add the clause's cues to `findings`, or their topics to `denied` when negated."""
    text = " ".join(clause)
    # A leading "no" followed by a new statement answers the question; it negates nothing.
    spanish_perfect = len(clause) > 2 and clause[2].endswith(("ado", "ido"))  # "no he estado"
    if (
        len(clause) > 1
        and clause[0] in ("no", "yes", "si")
        and clause[1] in _SUBJECTS
        and not spanish_perfect
    ):
        text = " ".join(clause[1:])
    whole = " ".join(clause)
    for topic, cues in _compiled().items():
        if topic in findings:
            continue
        for pattern, own_negation in cues:
            # A cue with its own "no" ("no me he tomado") is read with the clause's first word.
            for match in pattern.finditer(whole if own_negation else text):
                source = whole if own_negation else text
                if answered_no or (not own_negation and _negated(source, match, topic)):
                    denied.add(topic)
                    continue
                findings[topic] = Cue(topic, match.group(0))
                break
            if topic in findings:
                break


# "Plenty of strips", "todavia tengo tiras": enough of an as-needed item is a no to needing it.
_ENOUGH: Final = frozenset("plenty enough suficiente suficientes todavia still".split())
# "Since my stroke two years ago": history, not a change since the last refill.
_LONG_AGO: Final = re.compile(
    r"\b((\d+|two|three|four|five|several|many|few) years ago|last year|years back"
    r"|hace (\d+|dos|tres|cuatro|cinco|varios|muchos) anos)\b"
)


def _negated(text: str, match: re.Match[str], topic: Topic) -> bool:
    """A negation in the few words before the cue, in its clause, or "none" right after it."""
    if _LONG_AGO.search(text):
        return True
    before = text[: match.start()].split()[-_NEGATION_WINDOW:]
    for word in reversed(before):
        if word in _SCOPE_BREAKS:
            break
        if word in _NEGATORS or (topic == "prn_need" and word in _ENOUGH):
            return True
    after = text[match.end() :].split()
    return bool(after) and after[-1] in _TRAILING_NO and len(after) <= 3


_ASKED_AND_ANSWERED: Final = re.compile(
    r"\?\s*(no|nope|none|nothing|nada|ninguno|yes|si|n/a|na)\b\W*(?=$|[A-Za-z])", re.IGNORECASE
)


def _is_question(text: str, clauses: list[list[str]]) -> bool:
    # "Hospital? No. Changes? No.": the patient asks and answers the topics themselves.
    marks = _ASKED_AND_ANSWERED.sub(" ", text)
    if "?" in marks or "\u00bf" in marks:
        # "yes?" / "I think so?" alone is a tentative yes; "no?" stays a question (never a no).
        answer_only = len(clauses) == 1 and _answer(clauses) == "yes"
        return not (answer_only and len(_unfiled_words(tuple(clauses[0]))) == 0)
    joined = " ".join(" ".join(c) for c in clauses)
    return bool(_QUESTION_WORDS.search(joined)) or any(
        _QUESTION_START.match(" ".join(c)) for c in clauses if len(c) >= 3
    )


def _question_phrase(clauses: list[list[str]]) -> str:
    for clause in clauses:
        joined = " ".join(clause)
        if _QUESTION_START.match(joined) or _QUESTION_WORDS.search(joined):
            return joined
    return " ".join(clauses[-1]) if clauses else ""


# Words that carry no report of their own: pronouns, articles, answers, fillers, time words.
_FILLER: Final = frozenset(
    """
    i me my mine we us our you your he she him her his they them their it its this that these
    those the a an and or but so to of for in on at by with from as is am are was were be been
    being do does did done have has had having will would can could should shall may might must
    not no yes yeah ok okay thanks thank please just only also too very really all any some
    anything everything nothing none same still yet now then here there today yesterday week
    weeks month months time last next ago since before after about again well good fine great
    sure right hi hello hey dear sir maam mam lol um uh oh ah hmm know think guess sorry
    new changes change changed medicines medicine pills pill refill refills pharmacy pharmacist
    doctor okay taking take took everything going go went get got thing things answer question
    que el la los las un una de del al y o en por para con sin mi mis su sus yo tu me te se le
    lo nos es son fue era estoy esta estan tengo tiene hay muy mas bien todo nada si no gracias
    hola bueno ya aun todavia hoy ayer semana mes igual cambios cambio medicinas medicina
    farmacia pastillas emojiok emojiyes emojino
    """.split()
)


def _unfiled_words(words: tuple[str, ...]) -> list[str]:
    return [w for w in words if w not in _FILLER and w not in _ACK_WORDS and not w.isdigit()]
