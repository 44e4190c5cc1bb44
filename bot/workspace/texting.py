""" "Text the patient" on the item page: send, or show the page again with the words kept.

A refused text (too long, opted out, ...) and a text that names a medicine to a patient
without `phi_ok` (which needs an explicit confirmation) both render the item page again with
the form filled, so nothing typed is lost. The live character count (static/text_count.js)
gets the rules it counts by from here, rendered from dialogs/sms_rules.py, so the page and
the server count alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, g, redirect, url_for
from werkzeug.wrappers import Response

from bot import outreach
from bot.access import login_required
from bot.extensions import db_session, resources
from bot.webhooks import defaults, urls
from bot.workspace import _audit, _item_or_404, bp, item_page
from bot.workspace.forms import TextPatientForm
from dialogs import sms_rules
from dialogs.phi import medicine_words
from store.models import Patient, utcnow

# Python's own whitespace (str.split()), for the page to collapse runs of it the same way.
WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())


@dataclass(frozen=True)
class TextCheck:
    """Why the last text was not sent; `names` when only a confirmation is missing."""

    message: str
    names: list[str] = field(default_factory=list)


@bp.post("/items/<int:item_id>/text")
@login_required
def text(item_id: int) -> Response | tuple[str, int]:
    """Text the patient from the item; the text goes through the sending adapter."""
    item = _item_or_404(item_id)
    if item.patient is None:
        abort(404)
    form = TextPatientForm()
    if not form.validate_on_submit():
        expired = "csrf_token" in form.errors
        message = "The form had expired; send it again." if expired else "Write a message to send."
        return _again(item_id, form, TextCheck(message)), 400
    session = db_session()
    try:
        sent = outreach.text_patient(
            session,
            item.patient,
            form.body.data,
            utcnow(),
            checkin_id=item.checkin_id,
            transport=resources().transport,
            urls=urls(),
            defaults=defaults(),
            medicine_names_confirmed=bool(form.confirm_medicine_names.data),
        )
    except outreach.NamesMedicine as warning:
        return _again(item_id, form, TextCheck(f"{warning} Send anyway?", warning.names)), 200
    except outreach.CannotText as refusal:
        return _again(item_id, form, TextCheck(str(refusal))), 400
    _audit(
        "text_patient",
        store_id=item.store_id,
        patient_id=item.patient_id,
        target=f"item:{item.id}",
        detail={
            "outcome": sent.value,
            "medicine_names_confirmed": bool(form.confirm_medicine_names.data),
        },
    )
    session.commit()
    flash(
        "Text sent." if sent.value == "sent" else f"Text not sent: {sent.value}.",
        "ok" if sent.value == "sent" else "error",
    )
    return redirect(url_for("workspace.item_page", item_id=item.id))


def _again(item_id: int, form: TextPatientForm, check: TextCheck) -> str:
    """The item page, with the typed text in the box and what stopped it beside it."""
    form.confirm_medicine_names.data = False  # confirmed for the words shown, not ahead
    g.text_form, g.text_check = form, check
    return item_page(item_id)


@bp.app_context_processor
def _text_form_helper() -> dict[str, Any]:
    return {"text_form_for": text_form_state}


def text_form_state(patient: Patient | None) -> dict[str, Any]:
    """What the item page's text form needs: the form (filled after a refusal), why it was
    refused, and the box's attributes, with the rules the live count applies."""
    check: TextCheck | None = g.pop("text_check", None)
    described_by = "body-help body-count body-medicines" + (" body-problem" if check else "")
    box: dict[str, Any] = {
        "aria-describedby": described_by,
        "data-prefix": outreach.staff_text_prefix(patient.store) if patient is not None else "",
        "data-gsm7-basic": "".join(sorted(sms_rules.GSM7_BASIC)),
        "data-gsm7-extension": "".join(sorted(sms_rules.GSM7_EXTENSION)),
        "data-gsm7-limit": sms_rules.GSM7_SINGLE,
        "data-ucs2-limit": sms_rules.UCS2_SINGLE,
        "data-whitespace": WHITESPACE,
    }
    if patient is not None and not patient.phi_ok:
        words = medicine_words(m.name for m in patient.medicines)
        box["data-medicine-words"] = json.dumps(words)
    return {
        "text_form": g.pop("text_form", None) or TextPatientForm(formdata=None),
        "text_check": check,
        "text_box": box,
    }
