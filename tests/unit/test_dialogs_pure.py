"""dialogs/ stays pure: no web framework, database, Twilio, scheduler, or our impure packages.

Every module is parsed with `ast` (not grepped), so `from .. import x`, `import a.b as c` and
`importlib.import_module("...")` are all seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = frozenset(
    {
        "flask",
        "flask_login",
        "flask_wtf",
        "werkzeug",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "sqlite3",
        "twilio",
        "apscheduler",
        "requests",
        "urllib",
        "http",
        "socket",
        "bot",
        "store",
        "scheduler",
    }
)
# Reading a clock or a file makes a step impure; the caller passes dates in the Context.
FORBIDDEN_CALLS = frozenset({"open", "input", "now", "today", "utcnow", "time", "sleep"})


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> set[str]:
    """Return the absolute names of every module `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(part for part in [*base, node.module or ""] if part)
            if module:
                names.add(module)
            names.update(".".join(filter(None, [module, alias.name])) for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def forbidden_imports(path: Path, root: Path) -> list[str]:
    return sorted(n for n in imports_of(path, root) if n.split(".")[0] in FORBIDDEN)


def forbidden_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno} {called}()")
    return found


MODULES = sorted((ROOT / "dialogs").rglob("*.py"))


def test_it_finds_the_dialog_modules() -> None:
    names = {module_name(p, ROOT) for p in MODULES}
    assert {"dialogs", "dialogs.engine", "dialogs.checkin", "dialogs.texts.es"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_it_keeps_dialogs_free_of_io_imports(path: Path) -> None:
    assert forbidden_imports(path, ROOT) == [], f"{path} imports an impure package"
    assert forbidden_calls(path) == [], f"{path} reads a clock or a file"


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("dialogs/a.py", "import flask", ["flask"]),
        ("dialogs/a.py", "import sqlalchemy.orm as orm", ["sqlalchemy.orm"]),
        ("dialogs/a.py", "from twilio.twiml.voice_response import VoiceResponse", None),
        ("dialogs/a.py", "from apscheduler.schedulers.blocking import BlockingScheduler", None),
        ("dialogs/a.py", "from store import models", ["store", "store.models"]),
        ("dialogs/texts/b.py", "from ...bot import outreach", ["bot", "bot.outreach"]),
        ("dialogs/a.py", "from .. import scheduler", ["scheduler"]),
        ("dialogs/a.py", "import importlib\nimportlib.import_module('flask')", ["flask"]),
        ("dialogs/a.py", "def f():\n    import requests", ["requests"]),
        ("dialogs/a.py", "from . import engine\nimport json\nimport re", []),
        ("dialogs/a.py", "# import flask\nx = 'import store'", []),
    ],
)
def test_it_would_catch_a_forbidden_import(
    tmp_path: Path, relative: str, source: str, expected: list[str] | None
) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    found = forbidden_imports(path, tmp_path)
    if expected is None:
        assert found, source
    else:
        assert found == expected


def test_it_would_catch_a_clock_or_a_file(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text("import datetime\nx = datetime.datetime.now()\nopen('f')\n", encoding="utf-8")
    assert forbidden_calls(path) == ["probe.py:2 now()", "probe.py:3 open()"]
