"""English texts: every sentence the check-in says, by SMS and by voice.

Fields: {pharmacy} {phone} {program} {date} (the pickup date), {patient} (the first name),
{hi} (a greeting with the first name, or nothing), {q} (a question, itself a key of the same
table; a question may be a tuple of wordings, longest first: SMS uses the longest that fits).
Every SMS starts with the pharmacy name and must fit one GSM-7 segment with long names
(tests/unit/test_templates.py); no text names a medicine or a condition.
"""

from __future__ import annotations

from typing import Final

SMS: Final[dict[str, str | tuple[str, ...]]] = {
    "hi": "Hi {patient}! ",
    # Pharmacy-initiated: the first one carries the callback number and the opt-out instruction.
    "first_message": "{pharmacy}: {hi}{q} Call {phone}. Reply STOP to opt out.",
    "reminder": "{pharmacy}: {hi}Reminder: {q} Reply STOP to opt out.",
    # Within the dialog.
    "ask": "{pharmacy}: {q}",
    "reask": "{pharmacy}: Sorry, I didn't understand. {q}",
    "noinput": "{pharmacy}: We didn't get your answer. {q}",
    "who": "{pharmacy}: This is your pharmacy. {q}",
    # Issue 13: the patient's choice of pickup or delivery.
    "delivery_noted": "{pharmacy}: Thank you, we will deliver your refills. {q}",
    "pickup_noted": "{pharmacy}: Thank you, you will pick up your refills. {q}",
    "delivery_ack": "{pharmacy}: Thank you, we will deliver your refills. Questions? Call {phone}.",
    "pickup_ack": "{pharmacy}: Thank you, you will pick up your refills. Questions? Call {phone}.",
    "noted": "{pharmacy}: Thank you, we noted that. {q}",
    "question_noted": "{pharmacy}: Thanks, we'll pass on your question. {q}",
    "help": "{pharmacy} {program}: refill check-ins, msg frequency varies. Msg & data rates may"
    " apply. Call {phone}. Reply STOP to opt out.",
    # No promise that the refills are ready: staff say so when they are (SPEC 13).
    "closing_confirmed": "{pharmacy}: Thank you! We'll have your refills for {date}."
    " Questions? Call {phone}.",
    "closing_flagged": "{pharmacy}: Thank you! A pharmacist will look at this before your"
    " refills on {date}. Questions? Call {phone}.",
    "end_callback": "{pharmacy}: OK, a pharmacist will call you. You can also call us at {phone}.",
    "end_needs_human": "{pharmacy}: Sorry, I couldn't understand. A pharmacist will call you."
    " You can also call us at {phone}.",
    "end_maybe_stop": "{pharmacy}: Thanks, a pharmacist will review your message. To stop all"
    " texts, reply STOP.",
    "end_no_input": "{pharmacy}: We'll try again later. Questions? Call {phone}.",
    "already_done": "{pharmacy}: Your refill check-in is complete. Questions? Call {phone}.",
    # Consent and replies outside a check-in.
    "opt_out": "{pharmacy}: You are unsubscribed and will get no more refill texts or calls."
    " Reply START to resubscribe.",
    "opt_in": "{pharmacy}: Subscribed to {program} refill check-ins. Msg frequency varies."
    " Msg & data rates may apply. Reply HELP for help, STOP to opt out.",
    "late_ack": "{pharmacy}: Thanks, we passed your message to the pharmacist. Questions? Call"
    " {phone}.",
    "unknown_number": "{pharmacy}: Sorry, we could not match this number. Please call us at"
    " {phone}.",
    # Issue 14: the welcome after accepted consent, sent once (CTIA's opt-in confirmation).
    # Issue 13: staff marked the fill ready (no medicine named: SPEC 8), and the one reminder
    # when it waits longer than the store's pickup days.
    "ready_pickup": "{pharmacy}: {hi}Your refills are ready for pickup. Questions? Call {phone}."
    " Reply STOP to opt out.",
    "ready_delivery": "{pharmacy}: {hi}Your refills are ready and will be delivered soon."
    " Questions? Call {phone}. Reply STOP to opt out.",
    "pickup_reminder": "{pharmacy}: {hi}Reminder: your refills are waiting for pickup."
    " Questions? Call {phone}. Reply STOP to opt out.",
    "welcome": "{pharmacy}: {hi}Welcome to {program}: a text before each refill, next pickup"
    " {date}. Msg & data rates may apply. HELP for help, STOP to end.",
    # The quick form (SPEC 6): every topic in one question, longest first.
    "quick": (
        "Before your refills: any new or changed meds or doses, missed doses, hospital stays,"
        " needs or questions? Reply NO or tell us.",
        "Any new meds or doses, missed doses, hospital stays, needs or questions? Reply NO or"
        " tell us.",
        "Any med changes, missed doses, hospital stays, needs or questions? Reply NO or tell us.",
        "Med changes, missed doses, hospital, needs or questions? Reply NO or tell us.",
        "Meds, doses, hospital, needs: anything new? Reply NO or tell us.",
        "Meds, doses, refills, hospital? Reply NO or tell us.",
    ),
    "quick_reask": (
        "If nothing is new, reply NO. If something changed, tell us in a few words.",
        "Nothing new? Reply NO. Or tell us what changed.",
    ),
    "quick_details": (
        "What's new? Tell us in a few words: meds, doses, missed doses, a hospital stay or what"
        " you need.",
        "What's new? Please tell us in a few words.",
    ),
    "quick_more": (
        "Thank you, a pharmacist will look at this. Anything else? Reply NO or tell us.",
        "Anything else? Reply NO or tell us.",
    ),
    "quick_more_details": "What else? Please tell us in a few words.",
    # The full form: one question per topic (SPEC 6), keyed by dialog node.
    "med_change": "Any new, stopped or changed medicines or doses? Reply YES or NO.",
    "med_change_details": "What changed? Please reply in a few words.",
    "adherence": (
        "Any missed doses, side effects, leftover pills or trouble taking them? Reply YES or NO.",
        "Missed doses, side effects or leftover pills? Reply YES or NO.",
    ),
    "adherence_details": "What happened? Please reply in a few words.",
    "prn_need": (
        "Need any as-needed items this time, like an inhaler or test strips? Reply YES or NO.",
        "Need an inhaler, test strips or other as-needed items? Reply YES or NO.",
    ),
    "prn_need_details": "Which items do you need? Please reply in a few words.",
    "health_change": (
        "Any hospital or ER stay, or a new health condition? Reply YES or NO.",
        "Hospital, ER or a new condition? Reply YES or NO.",
    ),
    "health_change_details": "What happened? Please reply in a few words.",
    "concern": "Anything else for the pharmacist? Reply with your question, or NO.",
    "concern_details": "What would you like to ask the pharmacist?",
}

_KEYS: Final = " Press 1 for yes or 2 for no."
_NOTHING_NEW_KEYS: Final = " If nothing has changed, press 1. To tell us, press 2, or just say it."
_RECORD: Final = " after the tone, then press the pound key."

VOICE: Final[dict[str, str | tuple[str, ...]]] = {
    # An outbound call names only the pharmacy and the first name until the patient says it is
    # them: whoever answers learns nothing about refills (SPEC 6, Voice).
    "identity": "Hello, this is {pharmacy}, calling for {patient}. If this is {patient}, press 1"
    " or say yes. If not, press 2.",
    "wrong_person": "Thank you. Please ask {patient} to call {pharmacy} at {phone}. Again,"
    " {phone}. Goodbye.",
    "intro": "Thank you. We're calling about your refills for {date}. To talk to a pharmacist,"
    " press 0. To stop these calls, press 9.",
    "intro_inbound": "Thank you for calling {pharmacy}. We have a few questions about your"
    " refills for {date}. To talk to a pharmacist, press 0.",
    "transfer": "Please hold while we connect you to the pharmacy.",
    "closed_message": "The pharmacy is closed right now. {q}",
    "transfer_failed": "Sorry, no one could answer right now. {q}",
    "callback_message": "Please leave a message for the pharmacist" + _RECORD,
    "voicemail": "Hello, this is {pharmacy}. Please call us back at {phone}. Again, {phone}."
    " Thank you.",
    "ask": "{q}",
    "reask": "Sorry, I didn't understand. {q}",
    "noinput": "Sorry, I didn't hear anything. {q}",
    "who": "This is {pharmacy}, calling about your refills. {q}",
    # Issue 13: the patient's choice of pickup or delivery.
    "delivery_noted": "Thank you, we will deliver your refills. {q}",
    "pickup_noted": "Thank you, you will pick up your refills. {q}",
    "delivery_ack": "Thank you, we will deliver your refills. Goodbye.",
    "pickup_ack": "Thank you, you will pick up your refills. Goodbye.",
    "noted": "Thank you, we noted that. {q}",
    "question_noted": "Thank you, a pharmacist will answer your question. {q}",
    "help": "This is the {program} refill check-in from {pharmacy}. To reach the pharmacy, call"
    " {phone}. To stop these calls, press 9 or say stop. To talk to a pharmacist, press 0.",
    "closing_confirmed": "Thank you. We'll have your refills for {date}. Goodbye.",
    "closing_flagged": "Thank you. A pharmacist will look at your answers before your refills"
    " on {date}. Goodbye.",
    "end_callback": "OK, a pharmacist will call you back. You can also call us at {phone}."
    " Goodbye.",
    "end_needs_human": "Sorry, I couldn't understand. A pharmacist will call you. You can also"
    " call us at {phone}. Goodbye.",
    "end_maybe_stop": "Thank you, a pharmacist will review your answer. Goodbye.",
    "end_no_input": "We'll try again later. To reach the pharmacy, call {phone}. Goodbye.",
    "already_done": "Thank you for calling {pharmacy}. Your refill check-in is complete. To reach"
    " the pharmacy, call {phone}. Goodbye.",
    "opt_out": "You will not get any more refill calls or texts from {pharmacy}. Goodbye.",
    "opt_in": "You are subscribed to {program} refill check-ins from {pharmacy}. Goodbye.",
    "late_ack": "Thank you. We passed your message to the pharmacist. Goodbye.",
    "unknown_number": "Thank you for calling {pharmacy}. Please call the pharmacy at {phone}."
    " Goodbye.",
    # Issue 14: the welcome, as a notice call (it may reach a voicemail: nothing about
    # medicines).
    # Issue 13: the ready notice and the pickup reminder as calls (a voicemail may take them).
    "ready_pickup": "Hello, this is {pharmacy}. Your refills are ready for pickup. Questions?"
    " Call us at {phone}. Again, {phone}. Goodbye.",
    "ready_delivery": "Hello, this is {pharmacy}. Your refills are ready and will be delivered"
    " soon. Questions? Call us at {phone}. Again, {phone}. Goodbye.",
    "pickup_reminder": "Hello, this is {pharmacy}. A reminder: your refills are waiting for"
    " pickup. Questions? Call us at {phone}. Again, {phone}. Goodbye.",
    "welcome": "Hello, this is {pharmacy}. Welcome to the {program} program. We will call you"
    " about a week before each pickup. Your next pickup is {date}. For help, or to stop these"
    " calls, call us at {phone}. Again, {phone}. Goodbye.",
    # An inbound call with no check-in open: a message for the pharmacist.
    "leave_message": "Thank you for calling {pharmacy}. Please leave a message for the"
    " pharmacist after the tone, then press the pound key. Our number is {phone}.",
    "message_goodbye": "Thank you. A pharmacist will get your message. Goodbye.",
    "quick": "Since your last refill, has anything changed? New, stopped or changed medicines or"
    " doses, missed doses or side effects, a hospital stay, or anything you need?"
    + _NOTHING_NEW_KEYS,
    "quick_reask": "If nothing has changed, press 1. To tell us what changed, press 2.",
    "quick_details": "Please tell us what has changed" + _RECORD,
    "quick_more": "Is there anything else for the pharmacist? If not, press 1. To tell us,"
    " press 2.",
    "quick_more_reask": "If there is nothing else, press 1. To tell us more, press 2.",
    "quick_more_details": "Please tell us" + _RECORD,
    "med_change": "Since your last refill, have you started, stopped or changed any medicines"
    " or doses?" + _KEYS,
    "med_change_details": "Please tell us what changed" + _RECORD,
    "adherence": "Have you missed any doses, had side effects, leftover pills, or trouble taking"
    " your medicines?" + _KEYS,
    "adherence_details": "Please tell us what happened" + _RECORD,
    "prn_need": "Do you need any as-needed items this time, like an inhaler or test strips?"
    + _KEYS,
    "prn_need_details": "Please tell us which items you need" + _RECORD,
    "health_change": "Since your last refill, have you had a hospital or emergency room stay,"
    " or a new health condition?" + _KEYS,
    "health_change_details": "Please tell us what happened" + _RECORD,
    # On voice the concern question is yes/no: a recording needs a yes first.
    "concern": "Do you have anything else for the pharmacist?" + _KEYS,
    "concern_details": "Please leave your question for the pharmacist" + _RECORD,
}

WEEKDAYS: Final = {
    "sms": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "voice": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS: Final = {
    "sms": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "voice": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
DATE: Final = {"sms": "{weekday} {month} {day}", "voice": "{weekday}, {month} {day}"}
