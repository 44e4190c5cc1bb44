"""Settings parsed once from the environment (SPEC 5.1).

Every setting is declared in SETTINGS with its default and a one-line help; the README's
configuration table is checked against this list by a test, so the two never drift apart.
A bad value raises ConfigError naming the variable, before anything else starts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from store.validate import is_timezone, normalize_phone


class ConfigError(ValueError):
    """A setting is missing or has a value we cannot use."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "SQLite file `instance/medsync.sqlite3`", "SQLAlchemy URL"),
    Setting(
        "SECRET_KEY",
        "none (demo mode keeps a random key in `instance/`)",
        "session signing; required unless `MEDSYNC_DEMO=1`",
    ),
    Setting(
        "MEDSYNC_DEMO",
        "`0`",
        "demo/debug mode: allows running without `SECRET_KEY` and, with the console transport,"
        " serves the patient phone simulator; never for real patients",
    ),
    Setting(
        "MEDSYNC_TRANSPORT",
        "`console` when Twilio credentials are absent, else `twilio`",
        "`twilio` sends for real; `console` records and prints messages instead",
    ),
    Setting("TWILIO_ACCOUNT_SID", "none", "Twilio account SID (`AC...`)"),
    Setting("TWILIO_AUTH_TOKEN", "none", "Twilio auth token; also validates webhook signatures"),
    Setting("TWILIO_FROM_NUMBER", "none", "default sender number (E.164) when a store has none"),
    Setting(
        "TWILIO_MESSAGING_SERVICE_SID",
        "none",
        "default Messaging Service (`MG...`) when a store has none",
    ),
    Setting("TWILIO_API_BASE_URL", "`https://api.twilio.com`", "base URL for Twilio REST calls"),
    Setting("TWILIO_MESSAGES_PER_SECOND", "`0`", "client-side SMS pacing per sender; 0 = none"),
    Setting("TWILIO_CALLS_PER_SECOND", "`1`", "client-side call pacing per sender; 0 = none"),
    Setting(
        "PUBLIC_BASE_URL",
        "derived from the request",
        "public https origin Twilio calls; builds callback URLs and validates signatures",
    ),
    Setting("PHARMACY_STORE_CODE", "`main`", "code of the default store"),
    Setting("PHARMACY_NAME", "`Main Street Pharmacy`", "default store's name"),
    Setting("PHARMACY_PHONE", "`+12025550143`", "default store's callback number"),
    Setting("PHARMACY_TIMEZONE", "`America/New_York`", "default store's IANA timezone"),
    Setting(
        "SCHEDULER_INTERVAL_SECONDS",
        "`60`",
        "how often `run-scheduler` runs a pass",
    ),
    Setting("LOG_LEVEL", "`INFO`", "Python logging level"),
    Setting(
        "METRICS_TOKEN",
        "none (`/metrics` answers 404)",
        "bearer token Prometheus must send to scrape `/metrics` (16 characters or more)",
    ),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one app instance."""

    database_url: str
    secret_key: str
    demo: bool
    transport: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from_number: str | None
    twilio_messaging_service_sid: str | None
    twilio_api_base_url: str
    messages_per_second: float
    calls_per_second: float
    public_base_url: str | None
    pharmacy_store_code: str
    pharmacy_name: str
    pharmacy_phone: str
    pharmacy_timezone: str
    scheduler_interval_seconds: int
    log_level: str
    metrics_token: str | None = None  # None: /metrics is not served (bot/metrics.py)

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str | Path) -> Settings:
        """Parse and validate settings from an environment mapping."""
        instance = Path(instance_path)
        get = _Reader(env)
        demo = get.boolean("MEDSYNC_DEMO", False)
        sid = get.text("TWILIO_ACCOUNT_SID")
        token = get.text("TWILIO_AUTH_TOKEN")
        transport = get.choice(
            "MEDSYNC_TRANSPORT", ("twilio", "console"), "twilio" if sid and token else "console"
        )
        if transport == "twilio" and not (sid and token):
            raise ConfigError(
                "MEDSYNC_TRANSPORT=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        if sid and not sid.startswith("AC"):
            raise ConfigError("TWILIO_ACCOUNT_SID must start with 'AC'")
        service = get.text("TWILIO_MESSAGING_SERVICE_SID")
        if service and not service.startswith("MG"):
            raise ConfigError("TWILIO_MESSAGING_SERVICE_SID must start with 'MG'")
        secret = get.text("SECRET_KEY")
        if not secret:
            if not demo:
                raise ConfigError("SECRET_KEY is required (or set MEDSYNC_DEMO=1 for a demo)")
            secret = _demo_secret(instance)
        return cls(
            database_url=get.database_url("DATABASE_URL")
            or f"sqlite:///{(instance / 'medsync.sqlite3').as_posix()}",
            secret_key=secret,
            demo=demo,
            transport=transport,
            twilio_account_sid=sid,
            twilio_auth_token=token,
            twilio_from_number=get.phone("TWILIO_FROM_NUMBER"),
            twilio_messaging_service_sid=service,
            twilio_api_base_url=get.url("TWILIO_API_BASE_URL") or "https://api.twilio.com",
            messages_per_second=get.rate("TWILIO_MESSAGES_PER_SECOND", 0.0),
            calls_per_second=get.rate("TWILIO_CALLS_PER_SECOND", 1.0),
            public_base_url=get.url("PUBLIC_BASE_URL"),
            pharmacy_store_code=get.text("PHARMACY_STORE_CODE") or "main",
            pharmacy_name=get.text("PHARMACY_NAME") or "Main Street Pharmacy",
            pharmacy_phone=get.phone("PHARMACY_PHONE") or "+12025550143",
            pharmacy_timezone=get.timezone("PHARMACY_TIMEZONE") or "America/New_York",
            scheduler_interval_seconds=get.integer("SCHEDULER_INTERVAL_SECONDS", 60, minimum=1),
            log_level=get.choice(
                "LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", upper=True
            ),
            metrics_token=get.secret("METRICS_TOKEN", minimum_length=16),
        )


def load_settings(instance_path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment).

    A `flask` command run without `SECRET_KEY` also reads the demo's settings that
    scripts/run.sh left in the instance folder, so the README's commands work in a second
    terminal as they are written.
    """
    if env is None:
        env = os.environ
        if _on_flask_command_line():
            env = with_demo_env(env, Path(instance_path))
    return Settings.from_env(env, instance_path)


DEMO_ENV_FILE = "demo.env"


def with_demo_env(env: Mapping[str, str], instance: Path) -> Mapping[str, str]:
    """`env` over the settings in `instance/demo.env`, when `env` has no SECRET_KEY.

    The file is written by scripts/run.sh. A deployment always sets SECRET_KEY, so a
    leftover file can never turn it into a demo; without one the alternative is an error.
    The environment wins over the file, name by name.
    """
    path = instance / DEMO_ENV_FILE
    if env.get("SECRET_KEY", "").strip() or not path.is_file():
        return env
    return {**read_env_file(path), **env}


def read_env_file(path: Path) -> dict[str, str]:
    """Parse NAME=value lines (blank lines and # comments skipped; no quoting)."""
    known = {setting.name for setting in SETTINGS}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep:
            raise ConfigError(f"{path} line {number}: expected SETTING=value")
        if name not in known:
            raise ConfigError(f"{path} line {number}: {name!r} is not a setting")
        values[name] = value.strip()
    return values


def _on_flask_command_line() -> bool:
    # gunicorn imports wsgi.py outside any click command: the web tier of a deployment
    # never picks up the demo file, whatever is left in its instance folder.
    return click.get_current_context(silent=True) is not None


class _Reader:
    """Typed getters that name the offending variable when a value is bad."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def secret(self, name: str, minimum_length: int) -> str | None:
        value = self.text(name)
        if value is not None and len(value) < minimum_length:
            raise ConfigError(f"{name} must be at least {minimum_length} characters long")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.env.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")

    def choice(self, name: str, allowed: tuple[str, ...], default: str, upper: bool = False) -> str:
        value = self.text(name)
        if value is None:
            return default
        value = value.upper() if upper else value.lower()
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def integer(self, name: str, default: int, minimum: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
        if number < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {number}")
        return number

    def rate(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {value!r}") from None
        if not 0 <= number <= 10_000:
            raise ConfigError(f"{name} must be between 0 and 10000, not {value!r}")
        return number

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{name} must be an http(s) URL like https://example.org, not {value!r}"
            )
        if parts.query or parts.fragment:
            raise ConfigError(f"{name} must not carry a query or fragment")
        return value.rstrip("/")

    def database_url(self, name: str) -> str | None:
        """A URL for a backend we support, whose SQLite folder exists.

        Checked here because SQLAlchemy only complains at the first connection, with a
        traceback that hides the variable's name.
        """
        value = self.text(name)
        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            raise ConfigError(
                f"{name} is not a database URL: {_without_password(value)!r} "
                "(e.g. postgresql+psycopg://user@host/db or sqlite:////path/to/file.sqlite3)"
            ) from None
        if url.drivername == "postgres" or url.drivername.startswith("postgres+"):
            raise ConfigError(
                f"{name} starts with postgres://, which SQLAlchemy does not accept: "
                "write postgresql+psycopg:// instead"
            )
        if url.drivername not in SUPPORTED_DATABASE_DRIVERS:
            raise ConfigError(
                f"{name} must be a PostgreSQL (postgresql+psycopg://) or SQLite (sqlite:///) "
                f"URL, not {url.drivername}://"
            )
        _check_sqlite_folder(name, url)
        return value

    def phone(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        e164 = normalize_phone(value, "US")
        if e164 is None:
            raise ConfigError(f"{name} is not a valid phone number: {value!r}")
        return e164

    def timezone(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        if not is_timezone(value):
            raise ConfigError(
                f"{name} must be an IANA timezone like America/Chicago, not {value!r}"
            )
        return value


# The drivers we install and test (requirements.txt); SQLAlchemy 2.1's `postgresql://` is psycopg.
SUPPORTED_DATABASE_DRIVERS = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}
)


def _check_sqlite_folder(name: str, url: URL) -> None:
    """SQLite creates the file but not its folder: say so before the first connection."""
    if url.get_backend_name() != "sqlite":
        return
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    folder = Path(database).parent
    if not folder.is_dir():
        raise ConfigError(f"{name} points at a SQLite file in a missing folder: {folder}")


def _without_password(value: str) -> str:
    """Echo a URL back without whatever sits between the user and `@` (a password, usually)."""
    credentials, at, host = value.rpartition("@")
    if not at:
        return value
    scheme, sep, user = credentials.rpartition("://")
    return f"{scheme}{sep}{user.split(':', 1)[0]}:***@{host}"


def _demo_secret(instance: Path) -> str:
    """Keep one random key per instance folder so demo sessions survive restarts."""
    path = instance / "demo-secret-key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
