"""Where Twilio calls us back, and who sends when a store names no sender."""

from __future__ import annotations

from dataclasses import dataclass

from bot.transports.base import Sender


@dataclass(frozen=True)
class Urls:
    """Absolute callback URLs on our public origin (ASCII, opaque ids only: they are signed)."""

    base: str

    @property
    def sms_status(self) -> str:
        return f"{self.base}/twilio/sms/status"

    @property
    def voice_status(self) -> str:
        return f"{self.base}/twilio/voice/status"

    def voice_start(self, message_id: int) -> str:
        return f"{self.base}/twilio/voice?m={message_id}"

    def voice_notice(self, message_id: int) -> str:
        """The call that says a notice (refills ready, welcome) to a voice-only patient."""
        return f"{self.base}/twilio/voice/notice?m={message_id}"

    def voice_step(
        self, action: str, conversation_id: int, version: int, *, no_input: bool = False
    ) -> str:
        url = f"{self.base}/twilio/voice/{action}?c={conversation_id}&v={version}"
        return url + "&timeout=1" if no_input else url

    @property
    def voice_message(self) -> str:
        return f"{self.base}/twilio/voice/message"


@dataclass(frozen=True)
class Defaults:
    """Settings the use cases need: the default store and the default sender."""

    store_code: str
    sender: Sender
