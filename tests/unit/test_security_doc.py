"""docs/security.md names the tests that hold each defence: every one it names must exist.

The table writes paths relative to tests/ ("e2e/test_sessions.py::test_x") and repeats a file
as "::test_y" for the next test of the same file."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`((?:e2e|unit|integration|browser)/\w+\.py)?(?:::(\w+))?`")


def test_every_test_the_security_table_names_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    seen: list[tuple[str, str | None]] = []
    for row in text.splitlines():
        if not row.startswith("| **"):
            continue
        current = None
        for path, function in REFERENCE.findall(row.split("|")[3]):
            current = path or current
            if current:
                seen.append((current, function or None))
    assert len(seen) >= 60
    missing = []
    for path, function in seen:
        source = ROOT / "tests" / path
        if not source.exists():
            missing.append(path)
        elif function and f"def {function}(" not in source.read_text(encoding="utf-8"):
            missing.append(f"{path}::{function}")
    assert missing == []
