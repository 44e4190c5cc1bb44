"""The audit log: who saw or did what to whose data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import AuditEvent, utcnow


def record_audit(
    session: Session,
    action: str,
    *,
    actor: str,
    user_id: int | None = None,
    store_id: int | None = None,
    patient_id: int | None = None,
    target: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Append one audit event to the session's transaction."""
    session.add(
        AuditEvent(
            at=utcnow(),
            action=action,
            actor=actor,
            user_id=user_id,
            store_id=store_id,
            patient_id=patient_id,
            target=target,
            detail=detail or {},
        )
    )
