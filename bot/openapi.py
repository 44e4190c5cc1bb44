"""`GET /api/openapi.json`: the OpenAPI 3.1 description of every `/api/` route (SPEC 5.3, 15).

Kept here, beside the views, as data: `OPERATIONS` has one entry per (method, Flask rule) of
the API, and tests/contract/test_openapi.py fails when a route of the app is not in it or an
entry names a route that is gone, and checks the real answers against these schemas;
tests/contract/test_openapi_fuzz.py has schemathesis call every operation with generated
input (no 5xx, every answer as described). A new route: add its entry to OPERATIONS (and
its schemas to SCHEMAS), in the same commit as the view.
"""

from __future__ import annotations

import re
from typing import Any

from bot.api import bp
from bot.fills import Action, Blocker
from bot.inputs import MAX_PAGE
from bot.items import OUTCOMES
from bot.patients_api import MAX_PER_PAGE
from store import roster
from store.models import (
    Channel,
    CheckinForm,
    CheckinStatus,
    ConsentMethod,
    ConsentState,
    Delivery,
    FillState,
    Language,
    QueueKind,
    QueueStatus,
)
from store.validate import MAX_INTEGER

JSON = "application/json"


def _enum(values: object) -> list[str]:
    return [str(getattr(v, "value", v)) for v in values]  # type: ignore[attr-defined]


def _nullable(kind: str, **more: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **more}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    # More fields are welcome (SPEC 5.3), so no additionalProperties: false on answers.
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}
_TOPIC_STATE = {"type": "string", "enum": ["reported", "none", "unanswered"]}

SCHEMAS: dict[str, Any] = {
    "Error": {
        **_object({"error": {"type": "string"}}),
        "description": "Every error answer: a sentence for a person, never a stack trace.",
    },
    "QueueItem": _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": _enum(QueueKind)},
            "status": {"type": "string", "enum": _enum(QueueStatus)},
            "priority": {"type": "integer", "description": "1 high, 2 normal, 3 low"},
            "patient_id": _nullable("string", description="the PMS id"),
            "patient_name": _nullable("string"),
            "store": {"type": "string"},
            "anchor_date": _nullable("string", format="date"),
            "text": _nullable("string", description="the patient's words"),
            "recording_url": _nullable("string"),
            "created_at": _TIME,
            "claimed_by": _nullable("string"),
            "claimed_at": _nullable("string", format="date-time"),
            "resolution_note": _nullable("string"),
            "outcome": _nullable("string"),
        }
    ),
    "QueueList": _object(
        {
            "items": {"type": "array", "items": _ref("QueueItem")},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
        }
    ),
    "Message": _object(
        {
            "id": {"type": "integer"},
            "direction": {"type": "string", "enum": ["inbound", "outbound"]},
            "channel": {"type": "string", "enum": _enum(Channel)},
            "body": _nullable("string"),
            "recording_url": _nullable("string"),
            "twilio_sid": _nullable("string"),
            "status": {"type": "string"},
            "error_code": _nullable("integer"),
            "created_at": _TIME,
        }
    ),
    "Transcript": _object(
        {
            "items": {"type": "array", "items": _ref("Message")},
            "earlier": {"type": "integer", "description": "older messages not in this answer"},
            "next_before": _nullable("integer", description="?before= for the older ones"),
        }
    ),
    "Topics": _object(
        {
            topic: _TOPIC_STATE
            for topic in ("med_change", "adherence", "prn_need", "health_change", "concern")
        }
    ),
    "Checkin": _object(
        {
            "id": {"type": "integer"},
            "patient_id": {"type": "string"},
            "patient_name": {"type": "string"},
            "store": {"type": "string"},
            "anchor_date": _DATE,
            "status": {"type": "string", "enum": _enum(CheckinStatus)},
            "channel": {"type": "string", "enum": _enum(Channel)},
            "attempts": {"type": "integer"},
            "topics": _ref("Topics"),
        }
    ),
    "CheckinList": _object({"items": {"type": "array", "items": _ref("Checkin")}}),
    "RosterRow": _object(
        {
            "patient_id": {"type": "string"},
            "name": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "birth_date": _nullable("string", format="date"),
            "phone": {"type": "string"},
            "store": {"type": "string"},
            "status": {"type": "string", "enum": _enum(roster.RosterStatus)},
            "new_from_import": {"type": "boolean"},
            "anchor_date": _nullable("string", format="date"),
            "consent_state": {"type": ["string", "null"], "enum": [*_enum(ConsentState), None]},
        }
    ),
    "Roster": _object(
        {
            "items": {"type": "array", "items": _ref("RosterRow")},
            "total": {"type": "integer"},
            "next_after": _nullable("integer", description="?after= for the next page"),
        }
    ),
    "Patient": _object(
        {
            "patient_id": {"type": "string"},
            "name": {"type": "string"},
            "birth_date": _nullable("string", format="date"),
            "phone": {"type": "string"},
            "store": {"type": "string"},
            "status": {"type": "string", "enum": _enum(roster.RosterStatus)},
            "new_from_import": {"type": "boolean"},
            "channel": {"type": "string", "enum": _enum(Channel)},
            "language": {"type": "string", "enum": _enum(Language)},
            "phi_ok": {"type": "boolean"},
            "consent_state": {"type": ["string", "null"], "enum": [*_enum(ConsentState), None]},
            "consent_method": {"type": ["string", "null"], "enum": [*_enum(ConsentMethod), None]},
            "consent_date": _nullable("string", format="date"),
            "welcomed_at": _nullable("string", format="date-time"),
            "anchor_date": _nullable("string", format="date"),
            "checkin_form": {"type": ["string", "null"], "enum": [*_enum(CheckinForm), None]},
            "paused_until": _nullable("string", format="date"),
            "disenroll_reason": _nullable("string"),
        }
    ),
    "EnrollmentChanged": {
        "allOf": [
            _ref("Patient"),
            _object(
                {
                    "changed": {
                        "type": "object",
                        "description": "each field changed, in words",
                        "additionalProperties": {"type": "string"},
                    }
                }
            ),
        ]
    },
    "Resolution": {
        "type": "object",
        "properties": {
            "note": {"type": "string", "description": "required: what was done"},
            "outcome": {"type": "string", "enum": list(OUTCOMES), "default": "handled"},
        },
        "required": ["note"],
    },
    "Consent": {
        "type": "object",
        "properties": {
            "state": {"type": "string", "enum": _enum(ConsentState)},
            "method": {
                "type": "string",
                "enum": [m for m in _enum(ConsentMethod) if m != ConsentMethod.IMPORT],
            },
        },
        "required": ["state", "method"],
        "additionalProperties": False,
    },
    "EnrollmentChange": {
        "type": "object",
        "description": "Any subset, at least one field; null clears a pause, the form or a "
        "disenrollment.",
        "properties": {
            "anchor_date": _DATE,
            "channel": {"type": "string", "enum": _enum(Channel)},
            "language": {"type": "string", "enum": _enum(Language)},
            "phi_ok": {"type": "boolean"},
            "checkin_form": {"type": ["string", "null"], "enum": [*_enum(CheckinForm), None]},
            "paused_until": _nullable("string", format="date"),
            "disenroll_reason": _nullable("string"),
        },
        "minProperties": 1,
        "additionalProperties": False,
    },
    "FillItem": _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": _enum(QueueKind)},
            "text": _nullable("string"),
        }
    ),
    "FillMedicine": _object(
        {
            "name": {"type": "string"},
            "action": {"type": "string", "enum": _enum(Action)},
            "quantity": _nullable("integer", description="the short fill's quantity"),
            "reason": _nullable("string"),
        }
    ),
    "FillRow": _object(
        {
            "id": _nullable("integer", description="null until staff first act on the row"),
            "enrollment_id": {"type": "integer"},
            "patient_id": {"type": "string", "description": "the PMS id"},
            "patient_name": {"type": "string"},
            "birth_date": _nullable("string", format="date"),
            "store": {"type": "string"},
            "anchor_date": _DATE,
            "state": {"type": "string", "enum": _enum(FillState)},
            "note": _nullable("string"),
            "delivery": {"type": "string", "enum": _enum(Delivery)},
            "checkin_id": _nullable("integer"),
            "checkin_status": {
                "type": ["string", "null"],
                "enum": [*_enum(CheckinStatus), None],
                "description": "null: no check-in for this date",
            },
            "roster_status": {"type": "string", "enum": _enum(roster.RosterStatus)},
            "topics": {"type": "object", "additionalProperties": {"type": "string"}},
            "open_items": {"type": "array", "items": _ref("FillItem")},
            "prn_requests": {"type": "array", "items": _ref("FillItem")},
            "medicines": {"type": "array", "items": _ref("FillMedicine")},
            "blocker": {
                "type": ["string", "null"],
                "enum": [*_enum(Blocker), None],
                "description": "why the row is not simply ready to fill; null: nothing blocks",
            },
            "ready_at": _nullable("string", format="date-time"),
            "ready_notice_sent": {"type": "boolean"},
        }
    ),
    "FillDay": _object({"date": _DATE, "items": {"type": "array", "items": _ref("FillRow")}}),
    "FillStateChange": {
        **_object(
            {
                "state": {"type": "string", "enum": _enum(FillState)},
                "note": {"type": ["string", "null"], "description": "required for on_hold"},
            },
            required=["state"],
        ),
    },
    "RowStateChange": {
        **_object(
            {
                "enrollment_id": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER},
                "date": _DATE,
                "state": {"type": "string", "enum": _enum(FillState)},
                "note": {"type": ["string", "null"], "description": "required for on_hold"},
            },
            required=["enrollment_id", "date", "state"],
        ),
    },
    "Ratio": _object(
        {
            "numerator": {"type": "integer"},
            "denominator": {"type": "integer"},
            "rate": {"type": "number", "description": "a fraction; 0 when nothing to divide by"},
        }
    ),
    "Segment": _object(
        {
            "checkins": {"type": "integer"},
            "contacted": {"type": "integer"},
            "responded": {"type": "integer"},
            "contact_rate": {"type": "number"},
            "response_rate": {"type": "number"},
        }
    ),
    "StoreReport": _object(
        {
            "from": _DATE,
            "to": _DATE,
            "stores": {"type": "array", "items": {"type": "string"}},
            "enrolled": {"type": "integer"},
            "target": {"type": "integer", "description": "the stores' enrollment targets"},
            "target_share": {"type": "number"},
            "new_enrollments": {"type": "integer"},
            "disenrollments": {"type": "integer"},
            "disenroll_reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
            "contacted": {
                "type": "integer",
                "description": "patients with a pharmacy-initiated outreach in the period",
            },
            "responded": {"type": "integer", "description": "of those, patients who answered"},
            "response_rate": {"type": "number"},
            "opted_out": {"type": "integer"},
            "opt_out_rate": {"type": "number"},
            "checkins": _object({status: {"type": "integer"} for status in _enum(CheckinStatus)}),
            "checkins_total": {"type": "integer"},
            "unreachable_rate": {"type": "number"},
            "items": _object({kind: {"type": "integer"} for kind in _enum(QueueKind)}),
            "items_total": {"type": "integer"},
            "cleared": {"type": "integer", "description": "items cleared in the period"},
            "median_hours_to_clear": {"type": "number", "description": "0 when none cleared"},
            "by_channel": {"type": "object", "additionalProperties": _ref("Segment")},
            "by_language": {"type": "object", "additionalProperties": _ref("Segment")},
            "fills_per_day": {
                "type": "array",
                "items": _object(
                    {"date": _DATE, "due": {"type": "integer"}, "filled": {"type": "integer"}}
                ),
            },
            "pqa": _object(
                {
                    name: _ref("Ratio")
                    for name in (
                        "initial_sync_rate",
                        "patient_contact_rate",
                        "continuation_6_months",
                        "continuation_12_months",
                    )
                }
            ),
        }
    ),
    "ProgramReport": {
        "allOf": [
            _ref("StoreReport"),
            _object(
                {"per_store": {"type": "array", "items": _ref("StoreReport")}},
            ),
        ],
        "description": "The caller's stores added up, and each store on its own.",
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


RESPONSES: dict[str, Any] = {
    "BadRequest": _error("the input is wrong; the message names what"),
    "Unauthorized": _error("no bearer token, or not a valid one"),
    "Forbidden": _error("the caller's role may not do this"),
    "NotFound": _error("no such record among the caller's stores (another store's is 404 too)"),
    "Conflict": _error("the record's state does not allow it (claimed by someone else, ...)"),
    "Error": _error("any other error, in the same shape"),
}


def _answer(schema: str, description: str = "the answer") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _errors(*codes: int) -> dict[str, Any]:
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
    names |= {409: "Conflict"}
    answers = {str(code): {"$ref": f"#/components/responses/{names[code]}"} for code in codes}
    return {**answers, "default": {"$ref": "#/components/responses/Error"}}


def _query(name: str, schema: dict[str, Any], description: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description, **more}


_ITEM_ID = {
    "name": "item_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER},
}
_PATIENT_ID = {
    "name": "patient_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "the pharmacy's own patient id (from the import)",
}
_STORE = _query("store", {"type": "string"}, "the store's code, when the id is in several")


def _item_action(summary: str, *codes: int, body: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_ITEM_ID],
        "responses": {"200": _answer("QueueItem", "the item as it is now"), **_errors(*codes)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(body)}}}
    return operation


# (method, Flask rule) -> the OpenAPI operation. Every /api/ route of the app, no other.
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/openapi.json"): {
        "summary": "This description",
        "security": [],
        "responses": {
            "200": {
                "description": "OpenAPI 3.1",
                "content": {JSON: {"schema": {"type": "object", "required": ["openapi"]}}},
            }
        },
    },
    ("GET", "/api/queue"): {
        "summary": "Queue items visible to the caller (open and claimed unless ?status=)",
        "parameters": [
            _query("status", {"type": "string", "enum": _enum(QueueStatus)}, "one status"),
            _query("kind", {"type": "string", "enum": _enum(QueueKind)}, "one kind"),
            _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "from 1"),
            _query("per_page", {"type": "integer", "minimum": 1, "maximum": 500}, "default 100"),
        ],
        "responses": {"200": _answer("QueueList"), **_errors(400, 401)},
    },
    ("POST", "/api/queue/<int:item_id>/claim"): _item_action(
        "Claim the item (automated outreach pauses)", 401, 403, 404, 409
    ),
    ("POST", "/api/queue/<int:item_id>/release"): _item_action(
        "Give back the caller's own claim", 401, 403, 404, 409
    ),
    ("POST", "/api/queue/<int:item_id>/take-over"): _item_action(
        "Take over anyone's claim (pharmacists and admins)", 401, 403, 404, 409
    ),
    ("POST", "/api/queue/<int:item_id>/resolve"): _item_action(
        "Resolve with a note", 400, 401, 403, 404, 409, body="Resolution"
    ),
    ("GET", "/api/patients/<patient_id>/messages"): {
        "summary": "The patient's transcript, oldest first (the latest 500)",
        "parameters": [
            _PATIENT_ID,
            _STORE,
            _query(
                "before",
                {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER},
                "next_before of an earlier answer: the older messages",
            ),
        ],
        "responses": {"200": _answer("Transcript"), **_errors(400, 401, 404)},
    },
    ("GET", "/api/checkins"): {
        "summary": "Check-ins and their status for one anchor date",
        "parameters": [_query("anchor_date", _DATE, "YYYY-MM-DD", required=True)],
        "responses": {"200": _answer("CheckinList"), **_errors(400, 401)},
    },
    ("GET", "/api/checkins/<int:checkin_id>"): {
        "summary": "One check-in with its topics",
        "parameters": [
            {
                "name": "checkin_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER},
            }
        ],
        "responses": {"200": _answer("Checkin"), **_errors(401, 404)},
    },
    ("GET", "/api/patients"): {
        "summary": "The roster, by name",
        "parameters": [
            _query("q", {"type": "string"}, "name, PMS id, phone in any format, birth date"),
            _query("status", {"type": "string", "enum": _enum(roster.RosterStatus)}, "one"),
            _query("new_from_import", {"type": "string", "enum": ["1", "true", "yes"]}, "only"),
            _query("after", {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}, "cursor"),
            _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "100"),
        ],
        "responses": {"200": _answer("Roster"), **_errors(400, 401)},
    },
    ("POST", "/api/patients/<patient_id>/consent"): {
        "summary": "Record the patient's consent (accepted sends the welcome text)",
        "parameters": [_PATIENT_ID, _STORE],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Consent")}}},
        "responses": {"200": _answer("Patient"), **_errors(400, 401, 404, 409)},
    },
    ("POST", "/api/patients/<patient_id>/enrollment"): {
        "summary": "Change the enrollment (anchor, channel, language, pause, disenroll, ...)",
        "parameters": [_PATIENT_ID, _STORE],
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": _ref("EnrollmentChange")}},
        },
        "responses": {"200": _answer("EnrollmentChanged"), **_errors(400, 401, 404, 409)},
    },
    ("GET", "/api/fills"): {
        "summary": "The fill-day list: one row per enrolled patient anchored that day",
        "parameters": [_query("date", _DATE, "YYYY-MM-DD; default today in the store's zone")],
        "responses": {"200": _answer("FillDay"), **_errors(400, 401)},
    },
    ("POST", "/api/fills/<int:fill_id>/state"): {
        "summary": "Move a fill (to_prepare, prepared, ready, picked_up, delivered, on_hold)",
        "parameters": [
            {
                "name": "fill_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER},
            }
        ],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("FillStateChange")}}},
        "responses": {
            "200": _answer("FillRow", "the row as it is now"),
            **_errors(400, 401, 403, 404, 409),
        },
    },
    ("POST", "/api/fills/state"): {
        "summary": "Move the fill of a row that has no fill id yet (by enrollment and date)",
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("RowStateChange")}}},
        "responses": {
            "200": _answer("FillRow", "the row as it is now"),
            **_errors(400, 401, 403, 404, 409),
        },
    },
    ("GET", "/api/reports/program"): {
        "summary": "The program report of the caller's stores (SPEC 15): totals and per store",
        "parameters": [
            _query("from", _DATE, "first day, YYYY-MM-DD (default 30 days before to)"),
            _query("to", _DATE, "last day, YYYY-MM-DD (default today); at most two years"),
        ],
        "responses": {"200": _answer("ProgramReport"), **_errors(400, 401)},
    },
}

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def openapi_path(rule: str) -> str:
    """`/api/queue/<int:item_id>/claim` -> `/api/queue/{item_id}/claim`."""
    return _CONVERTER.sub(r"{\1}", rule)


def document() -> dict[str, Any]:
    """The whole description."""
    paths: dict[str, dict[str, Any]] = {}
    for (method, rule), operation in OPERATIONS.items():
        paths.setdefault(openapi_path(rule), {})[method.lower()] = {
            "operationId": f"{method.lower()} {openapi_path(rule)}",
            **operation,
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "medsync-bot API",
            "version": "1",
            "description": "The pharmacist queue, transcripts, check-ins and the roster "
            "(SPEC 5.3). Every route but this one needs `Authorization: Bearer TOKEN` from "
            "`flask --app wsgi create-api-token EMAIL`; answers cover the caller's stores.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """No token needed: the description holds no data."""
    return document()
