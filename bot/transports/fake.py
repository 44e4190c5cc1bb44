"""A transport for tests: records every request and returns scripted outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.transports.base import (
    Outcome,
    Sender,
    SendResult,
    Sent,
    call_problem,
    failed,
    sms_problem,
    update_problem,
)


@dataclass(frozen=True)
class _Scripted:
    to: str | None
    result: SendResult


class FakeTransport:
    """Accept everything with predictable SIDs unless told to fail the next request.

    `fake.fail_next(Outcome.OPTED_OUT, code=21610)` makes the next send or call fail that way;
    pass `to=` to fail only the next one to that number. Scripts are used in order.
    """

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._script: list[_Scripted] = []
        self._count = 0

    def fail_next(
        self,
        outcome: Outcome,
        *,
        code: int | None = None,
        message: str | None = None,
        to: str | None = None,
        sid: str | None = None,
    ) -> None:
        """Make the next request (to `to`, if given) return `outcome` instead of SENT."""
        status = {Outcome.SENT: "queued", Outcome.UNKNOWN: "unknown"}.get(outcome, "failed")
        self._script.append(_Scripted(to, SendResult(outcome, sid, status, code, message)))

    def messages_to(self, to: str) -> list[str]:
        """Return the bodies of the SMS accepted for `to`, oldest first."""
        return [
            s.body or ""
            for s in self.sent
            if s.kind == "sms" and s.to == to and s.result is not None and s.result.ok
        ]

    def calls_to(self, to: str) -> list[Sent]:
        """Return the calls requested to `to`, whatever their outcome."""
        return [s for s in self.sent if s.kind == "call" and s.to == to]

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        sender: Sender,
        status_callback: str | None,
        validity_period: int | None = None,
    ) -> SendResult:
        """Record one SMS and return its scripted or SENT result."""
        problem = sms_problem(sender, validity_period)
        result = failed(problem) if problem else self._result(to, "SM")
        self.sent.append(
            Sent(
                "sms",
                result.sid or "",
                to=to,
                body=body,
                sender=sender,
                status_callback=status_callback,
                validity_period=validity_period,
                result=result,
            )
        )
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
        """Record one call and return its scripted or SENT result."""
        problem = call_problem(sender, timeout_seconds)
        result = failed(problem) if problem else self._result(to, "CA")
        self.sent.append(
            Sent(
                "call",
                result.sid or "",
                to=to,
                sender=sender,
                url=url,
                status_callback=status_callback,
                machine_detection=machine_detection,
                result=result,
            )
        )
        return result

    def update_call(
        self,
        *,
        sid: str,
        twiml: str | None = None,
        url: str | None = None,
        status: str | None = None,
    ) -> SendResult:
        """Record one call update and return its scripted or SENT result."""
        problem = update_problem(twiml, url, status)
        if problem:
            result = failed(problem)
        else:
            scripted = self._take(None)
            result = scripted or SendResult(Outcome.SENT, sid, status or "in-progress")
        self.sent.append(
            Sent("update_call", sid, twiml=twiml, url=url, status=status, result=result)
        )
        return result

    def _result(self, to: str, prefix: str) -> SendResult:
        scripted = self._take(to)
        if scripted is not None:
            return scripted
        return SendResult(Outcome.SENT, self._new_sid(prefix), "queued")

    def _new_sid(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count:032x}"

    def _take(self, to: str | None) -> SendResult | None:
        for index, entry in enumerate(self._script):
            if entry.to is None or entry.to == to:
                del self._script[index]
                return entry.result
        return None
