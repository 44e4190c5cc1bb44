"""The migrations produce exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from store import migrate
from store.db import make_engine
from tests.conftest import clean_tables


def test_it_migrates_to_the_models_schema(engine: Engine) -> None:
    assert migrate.schema_differences(engine) == []


def test_it_is_at_the_head_revision(engine: Engine) -> None:
    head = migrate.alembic_config("sqlite://")
    from alembic.script import ScriptDirectory

    assert migrate.current_revision(engine) == ScriptDirectory.from_config(head).get_current_head()


def test_it_downgrades_and_upgrades_again(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    # Tables are emptied before each test that uses the app, not after: rows of kinds or
    # states the older schemas do not know would fail their CHECK constraints on the way down.
    clean_tables(engine)
    try:
        migrate.downgrade(migrated_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(migrated_url)
        assert migrate.schema_differences(engine) == []
    finally:
        engine.dispose()
