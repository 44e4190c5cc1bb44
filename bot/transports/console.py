"""A transport for demos and development: prints each request and keeps it in `sent`."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from bot.transports.base import Sender, SendResult, mask_phone
from bot.transports.fake import FakeTransport

CONSOLE_SMS_STATUS = "sent"


def random_hex() -> str:
    """Return 32 random hex digits, the length of a Twilio SID's tail."""
    return uuid.uuid4().hex


class ConsoleTransport(FakeTransport):
    """Accept every well-formed request, print one line for it and remember it in `sent`.

    The fake transport with random SIDs and a printed line per accepted request: it refuses
    what Twilio would refuse before sending (no sender, a call without a number), so a store
    misconfigured in demo mode fails the same way it would in production, and prints nothing
    for that.
    """

    name = "console"

    def __init__(
        self, *, stream: TextIO | None = None, new_id: Callable[[], str] = random_hex
    ) -> None:
        super().__init__()
        self._stream = stream
        self._new_id = new_id

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        sender: Sender,
        status_callback: str | None,
        validity_period: int | None = None,
    ) -> SendResult:
        """Print and record one SMS."""
        result = super().send_sms(
            to=to,
            body=body,
            sender=sender,
            status_callback=status_callback,
            validity_period=validity_period,
        )
        if result.ok:
            self._print(f"[console sms] to={mask_phone(to)} from={_label(sender)}: {body}")
            # No carrier will ever call back to move a console text past "queued": printing
            # it is the sending, so the transcript reads "sent" at once.
            result = replace(result, status=CONSOLE_SMS_STATUS)
            self.sent[-1] = replace(self.sent[-1], result=result)
        return result

    def place_call(
        self,
        *,
        to: str,
        sender: Sender,
        url: str,
        status_callback: str | None,
        machine_detection: bool = True,
        timeout_seconds: int = 30,
        amd_status_callback: str | None = None,
    ) -> SendResult:
        """Print and record one call; nothing dials, so no voice webhook follows."""
        result = super().place_call(
            to=to,
            sender=sender,
            url=url,
            status_callback=status_callback,
            machine_detection=machine_detection,
            timeout_seconds=timeout_seconds,
            amd_status_callback=amd_status_callback,
        )
        if result.ok:
            self._print(f"[console call] to={mask_phone(to)} from={_label(sender)} url={url}")
        return result

    def update_call(
        self,
        *,
        sid: str,
        twiml: str | None = None,
        url: str | None = None,
        status: str | None = None,
    ) -> SendResult:
        """Print and record one call update."""
        result = super().update_call(sid=sid, twiml=twiml, url=url, status=status)
        if result.ok:
            self._print(f"[console call update] sid={sid} status={status or '-'} url={url or '-'}")
        return result

    def _new_sid(self, prefix: str) -> str:
        return f"{prefix}{self._new_id():0>32}"

    def _print(self, line: str) -> None:
        # Resolve stdout late so pytest's capture (and a redirected stdout) sees the line.
        print(line, file=self._stream or sys.stdout, flush=True)


def _label(sender: Sender) -> str:
    return sender.messaging_service_sid or sender.from_number or "-"
