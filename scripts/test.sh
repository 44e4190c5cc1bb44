#!/usr/bin/env bash
# Set up (if needed) and run the checks: lint, types, then the test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k import -x
# TEST_DATABASE_URL=postgresql+psycopg://... runs the suite on PostgreSQL instead of SQLite.
source "$(dirname "$0")/venv.sh"
if [ "${SKIP_LINT:-0}" != "1" ]; then
    ruff check .
    ruff format --check .
    mypy
fi
set +e
pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: treating that as a failure" >&2
    exit 1
fi
exit "$status"
