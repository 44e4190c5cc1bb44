"""Enrollment, consent and their changes (SPEC 14): one use case for the pages and the API.

The pharmacy's opt-in steps (ASHP): record consent (accepted or declined, how, by whom,
when), reconcile the medicines (maintenance or PRN), choose the anchor date (the planner
suggests one and shows the short fills), note the costs discussed, and record the other
services offered as follow-ups. Later: change the anchor date, channel, language, medicine
names in texts or the check-in form, pause until a date, disenroll with a reason.

Every input is checked here (`parse_*`, raising `Invalid` with a message per field, the API's
400 and the page's errors alike); every change is audited; the patient's row is locked first,
so a change never races the scheduler deciding about the same patient. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import checkins, enrollments, workspace
from store.audit import record_audit
from store.models import (
    Channel,
    CheckinForm,
    CheckinStatus,
    ConsentMethod,
    ConsentState,
    Delivery,
    Enrollment,
    Language,
    Medicine,
    MedType,
    Patient,
    Service,
    Store,
)
from store.validate import normalize_phone

# A declined patient is not offered enrollment again by the workspace for this long.
DECLINE_QUIET_DAYS = 90
MAX_ANCHOR_DAYS = 365  # an anchor date (or a pause) at most a year ahead
MAX_NOTE = 2000
MAX_REASON = 200
DEFAULT_CYCLE_DAYS = 30

CONSENT_METHODS = {
    ConsentMethod.VERBAL: "Verbal (in person or by phone)",
    ConsentMethod.WRITTEN: "Written (signed form)",
    ConsentMethod.ELECTRONIC: "Electronic (website or app)",
}
SERVICES = {
    Service.IMMUNIZATIONS: "Immunizations",
    Service.MTM_CMR: "Medication review (MTM/CMR)",
    Service.ADHERENCE_PACKAGING: "Adherence packaging",
}
CHANGE_FIELDS = (
    "anchor_date",
    "channel",
    "language",
    "phi_ok",
    "checkin_form",
    "paused_until",
    "disenroll_reason",
)


class Invalid(ValueError):
    """Bad input: a message per field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {why}" for name, why in self.errors.items()))


class Refused(ValueError):
    """A valid request the patient's state does not allow (the API's 409)."""


@dataclass(frozen=True)
class Actor:
    """Who makes the change, for the consent record and the audit log."""

    user_id: int
    via: str  # "user" (a page) or "api"


def local_today(patient: Patient, now: dt.datetime) -> dt.date:
    """The patient's local date (their zone, else the store's)."""
    return now.astimezone(ZoneInfo(patient.timezone or patient.store.timezone)).date()


def staff_today(session: Session, store_ids: Collection[int], now: dt.datetime) -> dt.date:
    """The roster's "today" for a staff member (who is paused, whose consent is in effect):
    the local date of their first store."""
    stores = workspace.list_stores(session, store_ids)
    return now.astimezone(ZoneInfo(stores[0].timezone) if stores else dt.UTC).date()


def offer_again_on(patient: Patient, today: dt.date) -> dt.date | None:
    """When the workspace may offer enrollment again to a patient who declined it; None when
    it may now. Recording consent is always possible (the patient may ask to join)."""
    if patient.consent_state is not ConsentState.DECLINED or patient.consent_recorded_at is None:
        return None
    zone = ZoneInfo(patient.timezone or patient.store.timezone)
    again = patient.consent_recorded_at.astimezone(zone).date() + dt.timedelta(
        days=DECLINE_QUIET_DAYS
    )
    return again if today < again else None


# --- Parsing: one set of rules for forms and JSON -------------------------------------------


def _choice(value: object, allowed: Mapping[str, Any], name: str, errors: dict[str, str]) -> Any:
    if isinstance(value, str) and value in allowed:
        return allowed[value]
    errors[name] = f"must be one of {', '.join(sorted(allowed))}"
    return None


def _date(value: object, name: str, errors: dict[str, str]) -> dt.date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    errors[name] = "must be a date, YYYY-MM-DD"
    return None


def _future_date(
    value: object, name: str, today: dt.date, errors: dict[str, str], *, after_today: bool
) -> dt.date | None:
    day = _date(value, name, errors)
    if day is None:
        return None
    first = today + dt.timedelta(days=1 if after_today else 0)
    last = today + dt.timedelta(days=MAX_ANCHOR_DAYS)
    if not first <= day <= last:
        errors[name] = f"must be from {first} to {last}"
        return None
    return day


def _boolean(value: object, name: str, errors: dict[str, str]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "no", "true", "false"):
        return value.lower() in ("yes", "true")
    errors[name] = "must be true or false"
    return None


def _text(value: object, name: str, limit: int, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = "must be text"
        return None
    text = " ".join(value.split()) if limit <= MAX_REASON else value.strip()
    if len(text) > limit:
        errors[name] = f"must be at most {limit} characters"
        return None
    return text or None


_CONSENT_STATES = {s.value: s for s in ConsentState}
_METHODS = {m.value: m for m in CONSENT_METHODS}
_CHANNELS = {c.value: c for c in Channel}
_LANGUAGES = {lang.value: lang for lang in Language}
_FORMS = {f.value: f for f in CheckinForm}
_SERVICES = {s.value: s for s in SERVICES}
_DELIVERY = {d.value: d for d in Delivery}


def parse_consent(fields: Mapping[str, object]) -> tuple[ConsentState, ConsentMethod]:
    """`{"state": "accepted" | "declined", "method": "verbal" | "written" | "electronic"}`."""
    errors: dict[str, str] = {}
    unknown = sorted(set(fields) - {"state", "method"})
    for name in unknown:
        errors[name] = "unknown field"
    state = _choice(fields.get("state"), _CONSENT_STATES, "state", errors)
    method = _choice(fields.get("method"), _METHODS, "method", errors)
    if errors:
        raise Invalid(errors)
    return state, method


_UNSET: Any = object()


@dataclass(frozen=True)
class Changes:
    """An enrollment change: each field given (the others `_UNSET`)."""

    anchor_date: dt.date = _UNSET
    channel: Channel = _UNSET
    language: Language = _UNSET
    phi_ok: bool = _UNSET
    checkin_form: CheckinForm | None = _UNSET  # None: the store's form
    paused_until: dt.date | None = _UNSET  # None: not paused
    disenroll_reason: str | None = _UNSET  # None: enrolled (re-enroll a disenrolled patient)

    def given(self) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in CHANGE_FIELDS if getattr(self, name) is not _UNSET
        }


def parse_changes(fields: Mapping[str, object], today: dt.date) -> Changes:
    """SPEC 5.3's enrollment body, any subset; `today` is the patient's local date."""
    errors: dict[str, str] = {name: "unknown field" for name in set(fields) - set(CHANGE_FIELDS)}
    values: dict[str, Any] = {}
    if "anchor_date" in fields:
        values["anchor_date"] = _future_date(
            fields["anchor_date"], "anchor_date", today, errors, after_today=False
        )
    if "channel" in fields:
        values["channel"] = _choice(fields["channel"], _CHANNELS, "channel", errors)
    if "language" in fields:
        values["language"] = _choice(fields["language"], _LANGUAGES, "language", errors)
    if "phi_ok" in fields:
        values["phi_ok"] = _boolean(fields["phi_ok"], "phi_ok", errors)
    if "checkin_form" in fields:
        form = fields["checkin_form"]
        values["checkin_form"] = (
            None if form in (None, "", "store") else _choice(form, _FORMS, "checkin_form", errors)
        )
    if "paused_until" in fields:
        until = fields["paused_until"]
        values["paused_until"] = (
            None
            if until in (None, "")
            else _future_date(until, "paused_until", today, errors, after_today=True)
        )
    if "disenroll_reason" in fields:
        reason = _text(fields["disenroll_reason"], "disenroll_reason", MAX_REASON, errors)
        if (
            fields["disenroll_reason"] is not None
            and reason is None
            and "disenroll_reason" not in errors
        ):
            errors["disenroll_reason"] = "say why (or null to enroll again)"
        values["disenroll_reason"] = reason
    if errors:
        raise Invalid(errors)
    return Changes(**values)


@dataclass(frozen=True)
class EnrollInput:
    """The enroll flow's answers."""

    consent: ConsentState
    method: ConsentMethod
    anchor_date: dt.date | None = None  # required when accepted
    med_types: Mapping[int, MedType] = field(default_factory=dict)  # medicine id -> type
    costs_note: str | None = None
    services: Sequence[Service] = ()
    services_note: str | None = None
    channel: Channel | None = None
    language: Language | None = None
    phi_ok: bool | None = None


def parse_enroll(form: Mapping[str, str], services: Iterable[str], today: dt.date) -> EnrollInput:
    """The enroll page's form: consent, `med_<id>` types, anchor, notes, services, contact."""
    errors: dict[str, str] = {}
    consent = _choice(form.get("consent"), _CONSENT_STATES, "consent", errors)
    method = _choice(form.get("method"), _METHODS, "method", errors)
    med_types: dict[int, MedType] = {}
    for name, value in form.items():
        if name.startswith("med_") and name[4:].isdigit() and len(name) < 14:
            med_types[int(name[4:])] = _choice(value, {t.value: t for t in MedType}, name, errors)
    anchor = None
    if consent is ConsentState.ACCEPTED:
        anchor = _future_date(
            form.get("anchor_date", ""), "anchor_date", today, errors, after_today=False
        )
    chosen = [_choice(s, _SERVICES, "services", errors) for s in services]
    result = EnrollInput(
        consent=consent,
        method=method,
        anchor_date=anchor,
        med_types=med_types,
        costs_note=_text(form.get("costs_note"), "costs_note", MAX_NOTE, errors),
        services=[s for s in dict.fromkeys(chosen) if s is not None],
        services_note=_text(form.get("services_note"), "services_note", MAX_NOTE, errors),
        channel=_choice(form.get("channel"), _CHANNELS, "channel", errors)
        if "channel" in form
        else None,
        language=_choice(form.get("language"), _LANGUAGES, "language", errors)
        if "language" in form
        else None,
        phi_ok=_boolean(form.get("phi_ok"), "phi_ok", errors) if "phi_ok" in form else None,
    )
    if errors:
        raise Invalid(errors)
    return result


@dataclass(frozen=True)
class NewPatient:
    external_id: str
    first_name: str
    last_name: str
    phone: str
    birth_date: dt.date | None
    language: Language
    channel: Channel
    delivery: Delivery


def parse_new_patient(form: Mapping[str, str], region: str, today: dt.date) -> NewPatient:
    """A patient entered by hand: the import's rules for the same columns."""
    errors: dict[str, str] = {}
    texts = {}
    for name, limit in (("external_id", 64), ("first_name", 80), ("last_name", 80)):
        value = " ".join((form.get(name) or "").split())
        if not value:
            errors[name] = "required"
        elif len(value) > limit:
            errors[name] = f"must be at most {limit} characters"
        texts[name] = value
    phone = normalize_phone(form.get("phone") or "", region)
    if phone is None:
        errors["phone"] = "must be a phone number the patient can be texted or called at"
    birth = None
    if form.get("birth_date"):
        birth = _date(form.get("birth_date"), "birth_date", errors)
        if birth is not None and not dt.date(1900, 1, 1) <= birth <= today:
            errors["birth_date"] = "must be a past date"
    language = _choice(form.get("language", "en"), _LANGUAGES, "language", errors)
    channel = _choice(form.get("channel", "sms"), _CHANNELS, "channel", errors)
    delivery = _choice(form.get("delivery", "pickup"), _DELIVERY, "delivery", errors)
    if errors:
        raise Invalid(errors)
    assert phone is not None
    return NewPatient(
        texts["external_id"],
        texts["first_name"],
        texts["last_name"],
        phone,
        birth,
        language,
        channel,
        delivery,
    )


# --- The use cases -------------------------------------------------------------------------


def _audit(session: Session, actor: Actor, action: str, patient: Patient, **detail: Any) -> None:
    record_audit(
        session,
        action,
        actor=actor.via,
        user_id=actor.user_id,
        store_id=patient.store_id,
        patient_id=patient.id,
        target=patient.external_id,
        detail=detail,
    )


def _lock(session: Session, patient: Patient) -> None:
    """Read the patient again with the row locked: one decision per patient at a time (the
    scheduler locks the same row before it decides). Done once per use case, first."""
    session.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update())
    session.refresh(patient)  # read after the lock: any change made meanwhile is seen


def create_patient(session: Session, actor: Actor, store: Store, new: NewPatient) -> Patient:
    """Add a patient by hand (not in the PMS export yet); enrollment comes next."""
    taken = session.scalars(
        select(Patient.id).where(
            Patient.store_id == store.id, Patient.external_id == new.external_id
        )
    ).first()
    if taken is not None:
        raise Invalid(
            {"external_id": f"store {store.code} already has a patient {new.external_id}"}
        )
    patient = Patient(
        store_id=store.id,
        external_id=new.external_id,
        first_name=new.first_name,
        last_name=new.last_name,
        phone=new.phone,
        birth_date=new.birth_date,
        language=new.language,
        channel=new.channel,
        delivery=new.delivery,
        needs_review=False,
        phi_ok=False,
    )
    session.add(patient)
    session.flush()
    _audit(session, actor, "create_patient", patient)
    return patient


def record_consent(
    session: Session,
    actor: Actor,
    patient: Patient,
    state: ConsentState,
    method: ConsentMethod,
    now: dt.datetime,
) -> None:
    """Record consent as given now: accepted starts outreach (and the welcome text once),
    declined stops it for good (no consent date: the scheduler never contacts them).

    Accepting needs an enrollment (an anchor date): `change_enrollment` or `enroll` first.
    Staff having looked at the patient, a new patient from an import is reviewed too.
    """
    _lock(session, patient)
    _record_consent(session, actor, patient, state, method, now)


def _record_consent(
    session: Session,
    actor: Actor,
    patient: Patient,
    state: ConsentState,
    method: ConsentMethod,
    now: dt.datetime,
) -> None:
    if state is ConsentState.ACCEPTED and patient.enrollment is None:
        raise Refused("the patient has no enrollment yet: set an anchor_date first")
    patient.consent_state = state
    patient.consent_method = method
    patient.consent_by_id = actor.user_id
    patient.consent_recorded_at = now
    patient.consent_date = local_today(patient, now) if state is ConsentState.ACCEPTED else None
    if patient.needs_review:
        patient.needs_review = False
        enrollments.look_again_now(session, patient.id, now)
    if state is ConsentState.ACCEPTED:
        enrollments.look_again_now(session, patient.id, now)
    _audit(session, actor, "record_consent", patient, state=state.value, method=method.value)


def enroll(
    session: Session, actor: Actor, patient: Patient, answers: EnrollInput, now: dt.datetime
) -> None:
    """The enroll flow: consent, then (accepted) medicines, anchor, costs, contact; services
    offered become follow-ups either way."""
    _lock(session, patient)
    if answers.consent is ConsentState.ACCEPTED:
        assert answers.anchor_date is not None
        _reconcile_medicines(patient, answers.med_types)
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("channel", answers.channel),
                ("language", answers.language),
                ("phi_ok", answers.phi_ok),
            )
            if value is not None
        }
        if patient.enrollment is None:
            patient.enrollment = Enrollment(
                anchor_date=answers.anchor_date, cycle_days=DEFAULT_CYCLE_DAYS
            )
            session.flush()
        else:
            changes["anchor_date"] = answers.anchor_date
            if not patient.enrollment.active:
                changes["disenroll_reason"] = None
            if patient.enrollment.paused_until is not None:
                changes["paused_until"] = None
        _apply(session, patient, Changes(**changes), now)
        patient.enrollment.costs_note = answers.costs_note
    _record_consent(session, actor, patient, answers.consent, answers.method, now)
    if answers.services:
        enrollments.add_follow_ups(
            session,
            store_id=patient.store_id,
            patient_id=patient.id,
            services=answers.services,
            note=answers.services_note,
            by_id=actor.user_id,
            now=now,
        )
    _audit(
        session,
        actor,
        "enroll",
        patient,
        consent=answers.consent.value,
        anchor_date=answers.anchor_date.isoformat() if answers.anchor_date else None,
        services=[s.value for s in answers.services],
        medicines_reconciled=len(answers.med_types),
        costs_noted=bool(answers.costs_note),
    )


def _reconcile_medicines(patient: Patient, med_types: Mapping[int, MedType]) -> None:
    mine: dict[int, Medicine] = {m.id: m for m in patient.medicines}
    unknown = sorted(set(med_types) - set(mine))
    if unknown:
        raise Invalid({f"med_{unknown[0]}": "not one of this patient's medicines"})
    for medicine_id, med_type in med_types.items():
        mine[medicine_id].med_type = med_type


def change_enrollment(
    session: Session, actor: Actor, patient: Patient, changes: Changes, now: dt.datetime
) -> dict[str, str]:
    """Apply an enrollment change (any subset of `Changes`) and audit it; return what changed,
    in words per field (the page's confirmation, the API's answer)."""
    _lock(session, patient)
    given = changes.given()
    if patient.enrollment is None:
        if "anchor_date" not in given:
            raise Refused("the patient is not enrolled: give an anchor_date to enroll them")
        patient.enrollment = Enrollment(
            anchor_date=changes.anchor_date, cycle_days=DEFAULT_CYCLE_DAYS
        )
        session.flush()
        given.pop("anchor_date")
        done = {"anchor_date": f"enrolled with anchor date {changes.anchor_date}"}
        done |= _apply(session, patient, Changes(**given), now)
    else:
        done = _apply(session, patient, changes, now)
    if done:
        _audit(
            session,
            actor,
            "change_enrollment",
            patient,
            changed=sorted(done),
            **{k: _plain(v) for k, v in given.items()},
        )
    return done


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    return getattr(value, "value", value)


def _apply(
    session: Session, patient: Patient, changes: Changes, now: dt.datetime
) -> dict[str, str]:
    """Make each given change that differs from what is stored; say what was done."""
    enrollment = patient.enrollment
    assert enrollment is not None
    done: dict[str, str] = {}
    given = changes.given()
    if "anchor_date" in given and given["anchor_date"] != enrollment.anchor_date:
        checkin = enrollments.move_anchor(session, enrollment, given["anchor_date"], now)
        done["anchor_date"] = (
            f"anchor date {enrollment.anchor_date}"
            + {
                "moved": "; the open check-in follows it",
                "cancelled": "; the check-in not yet sent is made again for the new date",
                "none": "",
            }[checkin]
        )
    if "channel" in given and given["channel"] != patient.channel:
        patient.channel = given["channel"]
        enrollments.follow_unstarted_channel(session, patient.id, patient.channel)
        done["channel"] = f"channel {patient.channel.value}"
    if "language" in given and given["language"] != patient.language:
        patient.language = given["language"]
        done["language"] = f"language {patient.language.value}"
    if "phi_ok" in given and given["phi_ok"] != patient.phi_ok:
        patient.phi_ok = given["phi_ok"]
        done["phi_ok"] = "medicine names in texts " + (
            "allowed" if patient.phi_ok else "not allowed"
        )
    if "checkin_form" in given and given["checkin_form"] != enrollment.checkin_form:
        enrollment.checkin_form = given["checkin_form"]
        form = enrollment.checkin_form
        done["checkin_form"] = f"check-in form {form.value if form else 'the store’s'}"
    if "paused_until" in given and given["paused_until"] != enrollment.paused_until:
        enrollment.paused_until = given["paused_until"]
        if enrollment.paused_until is None:
            enrollments.look_again_now(session, patient.id, now)
            done["paused_until"] = "pause ended"
        else:
            done["paused_until"] = f"paused until {enrollment.paused_until}"
    if "disenroll_reason" in given:
        reason = given["disenroll_reason"]
        if reason is not None and enrollment.active:
            enrollment.active = False
            enrollment.disenrolled_at = now
            enrollment.disenroll_reason = reason
            # Nothing more is sent: check-ins not yet sent go, open ones close.
            enrollments.cancel_unstarted_checkins(session, patient.id)
            checkins.close_open_checkins(session, patient.id, CheckinStatus.EXPIRED, now)
            done["disenroll_reason"] = f"disenrolled: {reason}"
        elif reason is None and not enrollment.active:
            enrollment.active = True
            enrollment.disenrolled_at = None
            enrollment.disenroll_reason = None
            enrollment.checkin_anchor_date = None  # the scheduler makes the cycle's check-in
            done["disenroll_reason"] = "enrolled again"
    return done


def approve_review(session: Session, actor: Actor, patient: Patient, now: dt.datetime) -> bool:
    """Staff reviewed a patient new from an import: outreach may start; tell whether it was
    waiting."""
    _lock(session, patient)
    if not patient.needs_review:
        return False
    patient.needs_review = False
    enrollments.look_again_now(session, patient.id, now)
    _audit(session, actor, "review_patient", patient)
    return True


def finish_follow_up(
    session: Session, actor: Actor, patient: Patient, follow_up_id: int, now: dt.datetime
) -> bool:
    """Mark a follow-up done; tell whether it was open."""
    if not enrollments.finish_follow_up(session, patient.id, follow_up_id, actor.user_id, now):
        return False
    _audit(session, actor, "follow_up_done", patient, follow_up=follow_up_id)
    return True
