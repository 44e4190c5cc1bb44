"""planning/ stays pure: no web framework, database, or our impure packages; no clock or file.

The checks are the ones dialogs/ is held to (parsed with `ast`, see test_dialogs_pure.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_dialogs_pure import ROOT, forbidden_calls, forbidden_imports, module_name

MODULES = sorted((ROOT / "planning").rglob("*.py"))


def test_it_finds_the_planning_modules() -> None:
    names = {module_name(p, ROOT) for p in MODULES}
    assert {"planning", "planning.sync", "planning.pdc", "planning.fills"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_it_keeps_planning_free_of_io(path: Path) -> None:
    assert forbidden_imports(path, ROOT) == [], f"{path} imports an impure package"
    assert forbidden_calls(path) == [], f"{path} reads a clock or a file"


def test_it_would_catch_planning_importing_the_store(tmp_path: Path) -> None:
    path = tmp_path / "planning" / "probe.py"
    path.parent.mkdir()
    path.write_text("from store.models import Medicine\nimport datetime\ndatetime.date.today()\n")
    assert forbidden_imports(path, tmp_path) == ["store.models", "store.models.Medicine"]
    assert forbidden_calls(path) == ["probe.py:3 today()"]
