"""schemathesis against the live app (SPEC 15): every operation of /api/openapi.json is called
with generated input, valid and invalid, with a real token over seeded data. No answer may be
a 5xx, and every answer must match the schema of its status. It is part of the suite, so
`.ci/run` runs it on SQLite and again on PostgreSQL.

Bounded: FUZZ_EXAMPLES examples per operation and mode, derandomized (the same inputs each
run, so a failure reproduces). schemathesis's pytest plugin (`from_fixture`) does not run
under this pytest, so each operation's strategy is driven by hypothesis directly.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session

from bot.openapi import OPERATIONS
from tests.contract.api_data import seed

FUZZ_EXAMPLES = 30
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_no_server_error_and_every_answer_as_described(
    app: Flask, session: Session, mode: schemathesis.GenerationMode
) -> None:
    seeded = seed(session)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every described operation but the description itself, which schemathesis leaves out.
    assert len(operations) == len(OPERATIONS) - 1
    headers = {"Authorization": f"Bearer {seeded.token}"}
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)

        call()
