"""Settings (SPEC 5.1): defaults, loud failures on bad values, and the README documents them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import SETTINGS, ConfigError, Settings, load_settings, with_demo_env

ROOT = Path(__file__).resolve().parents[2]
BASE = {"SECRET_KEY": "s3cret"}


def parse(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({**BASE, **env}, tmp_path)


def test_it_has_working_defaults(tmp_path: Path) -> None:
    settings = parse(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path}/medsync.sqlite3"
    assert settings.transport == "console"
    assert settings.messages_per_second == 0
    assert settings.calls_per_second == 1
    assert settings.pharmacy_store_code == "main"
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.public_base_url is None


def test_it_chooses_twilio_when_credentials_are_present(tmp_path: Path) -> None:
    settings = parse(tmp_path, TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="tok")
    assert settings.transport == "twilio"


def test_it_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        Settings.from_env({}, tmp_path)


def test_demo_mode_keeps_one_random_key(tmp_path: Path) -> None:
    first = Settings.from_env({"MEDSYNC_DEMO": "1"}, tmp_path).secret_key
    second = Settings.from_env({"MEDSYNC_DEMO": "yes"}, tmp_path).secret_key
    assert first == second and len(first) == 64


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MEDSYNC_TRANSPORT", "carrier-pigeon", "MEDSYNC_TRANSPORT must be one of twilio, console"),
        ("MEDSYNC_TRANSPORT", "twilio", "needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        ("MEDSYNC_DEMO", "maybe", "MEDSYNC_DEMO must be"),
        ("TWILIO_ACCOUNT_SID", "XX123", "TWILIO_ACCOUNT_SID must start with 'AC'"),
        ("TWILIO_MESSAGING_SERVICE_SID", "XX1", "must start with 'MG'"),
        ("TWILIO_FROM_NUMBER", "12", "TWILIO_FROM_NUMBER is not a valid phone number"),
        ("TWILIO_API_BASE_URL", "ftp://x", "TWILIO_API_BASE_URL must be an http(s) URL"),
        ("TWILIO_MESSAGES_PER_SECOND", "fast", "TWILIO_MESSAGES_PER_SECOND must be a number"),
        ("TWILIO_CALLS_PER_SECOND", "-1", "TWILIO_CALLS_PER_SECOND must be between 0 and 10000"),
        ("PUBLIC_BASE_URL", "example.org", "PUBLIC_BASE_URL must be an http(s) URL"),
        ("PUBLIC_BASE_URL", "https://x.org/?a=1", "must not carry a query"),
        ("PHARMACY_PHONE", "call us", "PHARMACY_PHONE is not a valid phone number"),
        ("PHARMACY_TIMEZONE", "Mars/Olympus", "PHARMACY_TIMEZONE must be an IANA timezone"),
        ("SCHEDULER_INTERVAL_SECONDS", "0", "SCHEDULER_INTERVAL_SECONDS must be at least 1"),
        ("SCHEDULER_INTERVAL_SECONDS", "1.5", "must be a whole number"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of"),
    ],
)
def test_it_fails_loudly_on_a_bad_value(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(tmp_path, **{name: value})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://rx:hunter2@db.example/rx", "write postgresql+psycopg:// instead"),
        ("nonsense", "DATABASE_URL is not a database URL: 'nonsense'"),
        ("mysql://db.example/rx", "must be a PostgreSQL (postgresql+psycopg://) or SQLite"),
        ("sqlite:////no/such/folder/rx.sqlite3", "in a missing folder: /no/such/folder"),
    ],
)
def test_a_malformed_database_url_is_named_in_one_line(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        parse(tmp_path, DATABASE_URL=url)
    assert "\n" not in str(error.value) and "hunter2" not in str(error.value)


def test_a_password_in_an_unparsable_url_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        parse(tmp_path, DATABASE_URL="rx:hunter2@db.example")
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://rx@db.example:5432/rx",
        "postgresql://rx@db.example/rx",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+pysqlite:///{tmp}/rx.sqlite3",
    ],
)
def test_supported_database_urls_are_kept(tmp_path: Path, url: str) -> None:
    url = url.format(tmp=tmp_path)
    assert parse(tmp_path, DATABASE_URL=url).database_url == url


def test_it_normalizes_values(tmp_path: Path) -> None:
    settings = parse(
        tmp_path,
        PHARMACY_PHONE="(212) 555-0100",
        PUBLIC_BASE_URL="https://rx.example.org/",
        LOG_LEVEL="debug",
        MEDSYNC_TRANSPORT="CONSOLE",
    )
    assert settings.pharmacy_phone == "+12125550100"
    assert settings.public_base_url == "https://rx.example.org"
    assert settings.log_level == "DEBUG"
    assert settings.transport == "console"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


def test_every_setting_read_is_declared() -> None:
    source = (ROOT / "bot" / "config.py").read_text()
    read = set(re.findall(r'get\.\w+\(\s*"([A-Z_]+)"', source))
    assert read <= {s.name for s in SETTINGS}
    assert {s.name for s in SETTINGS} <= read


def test_the_demo_env_file_fills_in_when_there_is_no_secret_key(tmp_path: Path) -> None:
    (tmp_path / "demo.env").write_text(
        "# written by scripts/run.sh\n\nMEDSYNC_DEMO=1\nPHARMACY_NAME=Corner Drug Store\n"
    )
    env = with_demo_env({"PHARMACY_NAME": "Mine"}, tmp_path)
    settings = Settings.from_env(env, tmp_path)
    assert settings.demo and settings.pharmacy_name == "Mine"  # the environment wins


def test_the_demo_env_file_never_applies_when_a_secret_key_is_set(tmp_path: Path) -> None:
    (tmp_path / "demo.env").write_text("MEDSYNC_DEMO=1\n")
    assert not Settings.from_env(with_demo_env(BASE, tmp_path), tmp_path).demo
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        Settings.from_env(with_demo_env({}, tmp_path / "elsewhere"), tmp_path)


def test_the_web_tier_ignores_the_demo_env_file(tmp_path: Path) -> None:
    # gunicorn loads the app outside any click command: a leftover file is not read.
    (tmp_path / "demo.env").write_text("MEDSYNC_DEMO=1\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SECRET_KEY", raising=False)
        patch.delenv("MEDSYNC_DEMO", raising=False)
        with pytest.raises(ConfigError, match="SECRET_KEY is required"):
            load_settings(tmp_path)


@pytest.mark.parametrize(
    ("line", "message"),
    [("MEDSYNC_DEMO", "line 1: expected SETTING=value"), ("DEMO=1", "'DEMO' is not a setting")],
)
def test_a_bad_demo_env_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "demo.env").write_text(line + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        with_demo_env({}, tmp_path)
