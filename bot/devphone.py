"""The patient phone simulator at /dev/phone (demo mode with the console transport only).

Pick a patient, read the texts the pharmacy sent them as a phone thread, and answer: replies and
calls go from the browser to the real /twilio/* routes, signed the way Twilio signs, so the
demo exercises the same code as production. The page polls for new messages.

This blueprint exists only with MEDSYNC_DEMO=1 and MEDSYNC_TRANSPORT=console (SPEC 5.3;
otherwise every path here is a 404): it needs no login, lists every patient with their
transcript, and signs whatever it is asked to. The console transport alone is not enough: it is
the default of any install without Twilio credentials, real patients included.
"""

from __future__ import annotations

import io
import struct
import wave
from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, request
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.extensions import db_session, settings
from bot.webhooks import signing_key
from store import workspace
from store.models import Direction, Message, Patient, Purpose, Store
from store.validate import display_phone

bp = Blueprint("devphone", __name__, url_prefix="/dev/phone")


def init_app(app: Flask) -> None:
    """Register the simulator when, and only when, this is a demo where nothing is sent."""
    if is_served(settings_of(app)):
        app.register_blueprint(bp)


def is_served(config: Any) -> bool:
    """The one rule for whether /dev/phone exists (the app and `flask demo`'s hint use it)."""
    return bool(config.demo) and config.transport == "console"


def settings_of(app: Flask) -> Any:
    return app.extensions["medsync"].settings


@bp.get("")
def phone() -> str:
    """The simulator page: a patient picker, the thread, a reply box and a call screen."""
    session = db_session()
    patients = session.scalars(select(Patient).order_by(Patient.store_id, Patient.last_name)).all()
    return render_template("devphone.html", patients=patients, display_phone=display_phone)


@bp.get("/patients/<int:patient_id>")
def thread(patient_id: int) -> dict[str, Any]:
    """The patient's messages as their phone shows them, and what a call would dial."""
    session = db_session()
    patient = session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    store = session.get(Store, patient.store_id)
    assert store is not None
    pending_call = session.scalars(
        select(Message.id)
        .where(
            Message.patient_id == patient.id,
            Message.direction == Direction.OUTBOUND,
            Message.purpose.in_((Purpose.FIRST, Purpose.REMINDER, Purpose.CALL)),
            Message.body.is_(None),
            Message.status.in_(("queued", "pending", "unknown")),
        )
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    return {
        "patient": {"id": patient.id, "name": patient.full_name, "phone": patient.phone},
        "pharmacy": {"name": store.name, "number": store.from_number or store.phone},
        "pending_call_message": pending_call,
        "messages": [
            {
                "id": m.id,
                "mine": m.direction is Direction.INBOUND,
                "channel": m.channel.value,
                "body": m.body,
                "recording": bool(m.recording_url),
                "at": m.created_at.isoformat(),
            }
            for m in workspace.transcript(session, patient.id)
        ],
    }


@bp.post("/sign")
def sign() -> dict[str, str]:
    """Sign a form for one of our /twilio/ paths, as Twilio would."""
    body = request.get_json(silent=True) or {}
    path, form = body.get("path"), body.get("form")
    if not isinstance(path, str) or not path.startswith("/twilio/") or not isinstance(form, dict):
        abort(400)
    form = {str(k): str(v) for k, v in form.items()}
    origin = settings().public_base_url or request.host_url.rstrip("/")
    signature = RequestValidator(signing_key(settings())).compute_signature(origin + path, form)
    return {"signature": signature}


@bp.get("/recording/<name>.wav")
def recording(name: str) -> Response:
    """A second of silence standing in for a recorded answer (the words travel as text)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<h", 0) * 8000)
    return Response(buffer.getvalue(), mimetype="audio/wav")
