"""A transport for demos and development: prints each request and keeps it in `sent`."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from typing import TextIO

from bot.transports.base import (
    Outcome,
    Sender,
    SendResult,
    Sent,
    call_problem,
    failed,
    mask_phone,
    sms_problem,
    update_problem,
)


def random_hex() -> str:
    """Return 32 random hex digits, the length of a Twilio SID's tail."""
    return uuid.uuid4().hex


class ConsoleTransport:
    """Accept every well-formed request, print one line for it and remember it.

    It refuses what Twilio would refuse before sending (no sender, a call without a number),
    so a store misconfigured in demo mode fails the same way it would in production.
    """

    name = "console"

    def __init__(
        self, *, stream: TextIO | None = None, new_id: Callable[[], str] = random_hex
    ) -> None:
        self._stream = stream
        self._new_id = new_id
        self.sent: list[Sent] = []

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
        problem = sms_problem(sender, validity_period)
        if problem:
            return failed(problem)
        result = self._accept("SM")
        self.sent.append(
            Sent(
                "sms",
                str(result.sid),
                to=to,
                body=body,
                sender=sender,
                status_callback=status_callback,
                validity_period=validity_period,
                result=result,
            )
        )
        self._print(f"[console sms] to={mask_phone(to)} from={_label(sender)}: {body}")
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
        problem = call_problem(sender, timeout_seconds)
        if problem:
            return failed(problem)
        result = self._accept("CA")
        self.sent.append(
            Sent(
                "call",
                str(result.sid),
                to=to,
                sender=sender,
                url=url,
                status_callback=status_callback,
                machine_detection=machine_detection,
                result=result,
            )
        )
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
        problem = update_problem(twiml, url, status)
        if problem:
            return failed(problem)
        result = SendResult(Outcome.SENT, sid, status or "in-progress")
        self.sent.append(
            Sent("update_call", sid, twiml=twiml, url=url, status=status, result=result)
        )
        self._print(f"[console call update] sid={sid} status={status or '-'} url={url or '-'}")
        return result

    def _accept(self, prefix: str) -> SendResult:
        return SendResult(Outcome.SENT, f"{prefix}{self._new_id():0>32}", "queued")

    def _print(self, line: str) -> None:
        # Resolve stdout late so pytest's capture (and a redirected stdout) sees the line.
        print(line, file=self._stream or sys.stdout, flush=True)


def _label(sender: Sender) -> str:
    return sender.messaging_service_sid or sender.from_number or "-"
