"""`GET /api/openapi.json` (SPEC 5.3, 15): it describes exactly the app's /api/ routes, it is a
valid OpenAPI 3.1 document, and the real answers of every route match their schemas."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.specs.openapi.definitions import OPENAPI_31
from sqlalchemy.orm import Session

from bot.openapi import OPERATIONS, document, openapi_path
from tests.contract.api_data import Seeded, seed

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_api_route_is_described_and_nothing_else(app: Flask) -> None:
    routes = api_routes(app)
    missing = sorted(routes - set(OPERATIONS))
    gone = sorted(set(OPERATIONS) - routes)
    assert not missing, f"add these routes to bot/openapi.py OPERATIONS: {missing}"
    assert not gone, f"bot/openapi.py describes routes the app does not have: {gone}"
    described = {
        (method.upper(), path) for path, item in document()["paths"].items() for method in item
    }
    assert described == {(m, openapi_path(rule)) for m, rule in routes}


def test_the_served_document_is_valid_openapi_3_1(app: Flask) -> None:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.json
    assert doc == document()
    # The OpenAPI 3.1 meta-schema (as schemathesis ships it), and each schema compiles.
    jsonschema_rs.validator_for(OPENAPI_31).validate(doc)
    for schema in doc["components"]["schemas"].values():
        # Raises when malformed or when a $ref points nowhere.
        jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})
    # Every path parameter of a path is declared, and every operation answers a 401 but this.
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == set(_path_names(path)), (method, path)
            if path != "/api/openapi.json":
                assert "401" in operation["responses"], (method, path)
    loaded = schemathesis.openapi.from_dict(doc)
    assert len(list(loaded.get_all_operations())) == len(OPERATIONS)


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


class Answers:
    """Calls a route and checks the answer against the schema its status is described by."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.token = client, token
        self.doc = document()
        self.seen: set[tuple[str, str, int]] = set()

    def check(self, method: str, rule: str, url: str, status: int, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        assert response.status_code == status, (url, response.json)
        assert response.mimetype == "application/json"
        responses = self.doc["paths"][openapi_path(rule)][method.lower()]["responses"]
        answer = responses.get(str(status)) or responses["default"]
        if "$ref" in answer:
            answer = self.doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
        schema = answer["content"]["application/json"]["schema"]
        root = {**schema, "components": self.doc["components"]}
        jsonschema_rs.validator_for(root).validate(response.json)
        self.seen.add((method, rule, status))
        return response.json


@pytest.fixture
def seeded(app: Flask, session: Session) -> Seeded:
    return seed(session)


def test_the_real_answers_match_their_schemas(app: Flask, seeded: Seeded) -> None:
    api = Answers(app.test_client(), seeded.token)
    first, second, third = seeded.item_ids
    item = "/api/queue/<int:item_id>"
    api.check("GET", "/api/openapi.json", "/api/openapi.json", 200)
    listing = api.check("GET", "/api/queue", "/api/queue", 200)
    assert listing["total"] == 3 and listing["items"][0]["text"]
    api.check("GET", "/api/queue", "/api/queue?status=resolved&kind=prn_need", 200)
    api.check("GET", "/api/queue", "/api/queue?status=nope", 400)
    api.check("GET", "/api/queue", "/api/queue?page=0", 400)
    api.check("POST", f"{item}/claim", f"/api/queue/{first}/claim", 200)
    api.check("POST", f"{item}/claim", f"/api/queue/{first}/claim", 409)
    api.check("POST", f"{item}/claim", "/api/queue/999999/claim", 404)
    api.check("POST", f"{item}/release", f"/api/queue/{first}/release", 200)
    api.check("POST", f"{item}/take-over", f"/api/queue/{second}/take-over", 409)  # unclaimed
    colleague = Answers(app.test_client(), seeded.colleague_token)
    colleague.check("POST", f"{item}/claim", f"/api/queue/{second}/claim", 200)
    colleague.check("POST", f"{item}/take-over", f"/api/queue/{third}/take-over", 403)
    api.check("POST", f"{item}/take-over", f"/api/queue/{second}/take-over", 200)
    api.check("POST", f"{item}/resolve", f"/api/queue/{second}/resolve", 400, json={})
    done = api.check(
        "POST", f"{item}/resolve", f"/api/queue/{second}/resolve", 200, json={"note": "called"}
    )
    assert done["status"] == "resolved" and done["resolution_note"] == "called"
    api.check("POST", f"{item}/resolve", f"/api/queue/{third}/resolve", 400, data="not json")
    messages = "/api/patients/<patient_id>/messages"
    transcript = api.check("GET", messages, f"/api/patients/{seeded.patient_id}/messages", 200)
    assert transcript["items"][0]["body"] == "yes"
    api.check("GET", messages, f"/api/patients/{seeded.patient_id}/messages?before=x", 400)
    api.check("GET", messages, "/api/patients/nobody/messages", 404)
    day = api.check("GET", "/api/checkins", f"/api/checkins?anchor_date={seeded.anchor_date}", 200)
    assert [c["id"] for c in day["items"]] == [seeded.checkin_id]
    api.check("GET", "/api/checkins", "/api/checkins?anchor_date=tomorrow", 400)
    one = "/api/checkins/<int:checkin_id>"
    api.check("GET", one, f"/api/checkins/{seeded.checkin_id}", 200)
    api.check("GET", one, "/api/checkins/999999", 404)
    roster = api.check("GET", "/api/patients", "/api/patients?per_page=1", 200)
    assert roster["total"] == 3 and roster["next_after"] is not None
    api.check("GET", "/api/patients", f"/api/patients?after={roster['next_after']}", 200)
    api.check("GET", "/api/patients", "/api/patients?status=asleep", 400)
    consent = "/api/patients/<patient_id>/consent"
    body = {"state": "accepted", "method": "verbal"}
    api.check("POST", consent, "/api/patients/P2/consent", 200, json=body)
    api.check("POST", consent, "/api/patients/P2/consent", 400, json={"state": "maybe"})
    api.check("POST", consent, "/api/patients/nobody/consent", 404, json=body)
    change = "/api/patients/<patient_id>/enrollment"
    changed = api.check("POST", change, "/api/patients/P1/enrollment", 200, json={"phi_ok": True})
    assert list(changed["changed"]) == ["phi_ok"] and changed["phi_ok"] is True
    api.check("POST", change, "/api/patients/P1/enrollment", 400, json={})
    api.check(
        "POST", change, "/api/patients/P1/enrollment", 200, json={"disenroll_reason": "moved"}
    )
    api.check("POST", change, "/api/patients/P3/enrollment", 409, json={"phi_ok": True})
    fills = api.check("GET", "/api/fills", f"/api/fills?date={seeded.anchor_date}", 200)
    row = next(r for r in fills["items"] if r["patient_id"] == "P2")
    assert row["id"] is None and row["state"] == "to_prepare"
    api.check("GET", "/api/fills", "/api/fills?date=someday", 400)
    by_row = "/api/fills/state"
    moved = {"enrollment_id": row["enrollment_id"], "date": seeded.anchor_date}
    prepared = api.check("POST", by_row, by_row, 200, json={**moved, "state": "prepared"})
    assert prepared["id"] is not None and prepared["state"] == "prepared"
    api.check("POST", by_row, by_row, 400, json={**moved, "state": "asleep"})
    api.check(
        "POST", by_row, by_row, 404, json={**moved, "enrollment_id": 999999, "state": "ready"}
    )
    by_id = "/api/fills/<int:fill_id>/state"
    url = f"/api/fills/{prepared['id']}/state"
    assert api.check("POST", by_id, url, 200, json={"state": "ready"})["state"] == "ready"
    api.check("POST", by_id, url, 409, json={"state": "prepared"})  # ready does not go back
    api.check("POST", by_id, url, 400, data="not json")
    api.check("POST", by_id, "/api/fills/999999/state", 404, json={"state": "ready"})
    program = "/api/reports/program"
    report = api.check("GET", program, program, 200)
    # P1 was disenrolled above, P3 never enrolled: P2 is the one enrolled.
    assert report["enrolled"] == 1 and report["disenroll_reasons"] == {"moved": 1}
    assert len(report["per_store"]) == 1
    api.check("GET", program, f"{program}?from=2026-12-31&to=2026-01-01", 400)
    # Without a token, every route but the description answers 401 in the Error shape.
    anonymous = Answers(app.test_client(), "")
    for method, rule in OPERATIONS:
        if rule != "/api/openapi.json":
            url = rule.replace("<int:item_id>", "1").replace("<int:checkin_id>", "1")
            url = url.replace("<int:fill_id>", "1")
            anonymous.check(method, rule, url.replace("<patient_id>", "P1"), 401)
    # Every described route was called with a real answer.
    assert {(m, r) for m, r, _ in api.seen} == set(OPERATIONS)
