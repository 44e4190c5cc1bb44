"""Dialog outputs to TwiML, built only with twilio-python's TwiML builders."""

from __future__ import annotations

from collections.abc import Iterable

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

import dialogs

# Twilio speech recognition and text-to-speech languages for our two patient languages.
VOICE_LANGUAGE = {"en": "en-US", "es": "es-MX"}
GATHER_SECONDS = 6  # time to start answering after a question, before the fallback verb
RECORD_SECONDS = 120  # the longest answer we record for the pharmacist


def sms_twiml(texts: Iterable[str]) -> str:
    """Answer an inbound SMS: one <Message> per text, or an empty <Response/> for none."""
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)


def voice_twiml(
    outputs: Iterable[dialogs.Output],
    language: str,
    *,
    gather_url: str,
    record_url: str,
    no_input_url: str,
    no_recording_url: str,
    dialed_url: str,
) -> str:
    """Render one voice turn.

    Questions are <Gather input="dtmf speech"> (1 yes, 2 no) followed by a <Redirect> to the
    no-input URL, so a caller who says nothing is re-asked instead of falling off the call.
    Details are a prompt and a <Record>, followed by a <Redirect> in case nothing was recorded.
    """
    lang = VOICE_LANGUAGE.get(language, "en-US")
    response = VoiceResponse()
    for output in outputs:
        if isinstance(output, dialogs.AskYesNo):
            gather = Gather(
                input="dtmf speech",
                num_digits=1,
                action=gather_url,
                method="POST",
                timeout=GATHER_SECONDS,
                speech_timeout="auto",
                language=lang,
                action_on_empty_result=False,
            )
            gather.say(output.text, language=lang)
            response.append(gather)
            response.redirect(no_input_url, method="POST")
            return str(response)
        if isinstance(output, dialogs.AskText):
            response.say(output.text, language=lang)
            _record(response, record_url)
            response.redirect(no_recording_url, method="POST")
            return str(response)
        if isinstance(output, dialogs.Transfer):
            # Ring the pharmacy; when that call ends, the action learns whether anyone answered.
            response.say(output.text, language=lang)
            response.dial(output.number, action=dialed_url, method="POST", timeout=25)
            return str(response)
        if isinstance(output, dialogs.Say | dialogs.End):
            response.say(output.text, language=lang)
    response.hangup()
    return str(response)


def say_and_hang_up(text: str, language: str) -> str:
    """Speak `text` (a voicemail, a goodbye) and end the call."""
    response = VoiceResponse()
    response.say(text, language=VOICE_LANGUAGE.get(language, "en-US"))
    response.hangup()
    return str(response)


def hang_up() -> str:
    """End the call at once (a fax machine, an opted-out caller)."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


def leave_message(prompt: str, goodbye: str, language: str, record_url: str) -> str:
    """Let a caller leave a recorded message for the pharmacist."""
    lang = VOICE_LANGUAGE.get(language, "en-US")
    response = VoiceResponse()
    response.say(prompt, language=lang)
    _record(response, record_url)
    response.say(goodbye, language=lang)
    response.hangup()
    return str(response)


def _record(response: VoiceResponse, action: str) -> None:
    """Record up to two minutes after a beep; # or five seconds of silence ends it."""
    response.record(
        action=action,
        method="POST",
        max_length=RECORD_SECONDS,
        timeout=5,
        finish_on_key="#",
        play_beep=True,
    )
