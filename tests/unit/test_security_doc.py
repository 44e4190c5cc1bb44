"""docs/security.md names the tests that hold each defence: every one it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_the_security_table_names_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    references = set(re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", text))
    assert len(references) >= 15
    missing = []
    for path, function in references:
        source = ROOT / path
        if not source.exists():
            missing.append(path)
        elif function and f"def {function}" not in source.read_text(encoding="utf-8"):
            missing.append(f"{path}::{function}")
    assert missing == []
