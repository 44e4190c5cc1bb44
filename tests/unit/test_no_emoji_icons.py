"""No emoji or pictographic symbols in the pages and scripts: without an emoji font (a plain
Debian or a locked-down workstation) they render as empty boxes. Words or CSS shapes instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Emoji and pictographs, miscellaneous symbols and dingbats, arrows-and-shapes extension,
# and the emoji presentation selector.
PICTOGRAPHS = re.compile("[\U0001f000-\U0001ffff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
FILES = sorted(
    path
    for folder in ("bot/templates", "bot/static")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in {".html", ".js", ".css"}
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_emoji_icons(path: Path) -> None:
    found = [
        f"line {number}: {match.group()!r}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in PICTOGRAPHS.finditer(line)
    ]
    assert found == []
