"""The README as a new user follows it: `scripts/run.sh` in one terminal, the README's
commands in another, fresh one (SPEC 4; issue 11, point 15).

The project is copied to a temporary folder (sharing the virtualenv), so the demo's
`instance/` is this test's own. The second terminal's environment has no MEDSYNC_DEMO and no
SECRET_KEY: the commands must get the demo's settings from what run.sh left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "instance",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "bench",
    "docs",
    "tests",
)


def fresh_terminal_env(**extra: str) -> dict[str, str]:
    """What a new shell has: no MEDSYNC_*, SECRET_KEY or DATABASE_URL."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/"),
        "LANG": "C.UTF-8",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A copy of the project with scripts/run.sh running in it, as in the README."""
    project = tmp_path_factory.mktemp("fresh") / "medsync-bot"
    shutil.copytree(ROOT, project, ignore=NOT_COPIED)
    (project / ".venv").symlink_to((ROOT / ".venv").resolve())
    port = free_port()
    log = (project / "run.log").open("w")
    run = subprocess.Popen(
        ["scripts/run.sh"],
        cwd=project,
        env=fresh_terminal_env(PORT=str(port)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120  # a deadline for start-up, not a timing assertion
        while run.poll() is None and time.monotonic() < deadline:
            try:
                if get(f"http://127.0.0.1:{port}/healthz") == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"scripts/run.sh did not come up:\n{(project / 'run.log').read_text()}")
        yield project, port
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C, as the README says
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        log.close()


def flask(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [".venv/bin/flask", "--app", "wsgi", *args],
        cwd=project,
        env=fresh_terminal_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def readme_command_names() -> list[list[str]]:
    """The first cell of every row of the README's command tables, e.g. ['db', 'upgrade']."""
    names = []
    for section in ("## Commands", "## Planning"):
        body = README.split(section, 1)[1].split("\n## ", 1)[0]
        for cell in re.findall(r"^\| `([^`]+)`", body, flags=re.MULTILINE):
            names.append(re.findall(r"^[a-z][a-z-]*(?: [a-z][a-z-]*)?", cell)[0].split())
    return names


def readme_inline_commands() -> list[list[str]]:
    """Every `.venv/bin/flask --app wsgi ...` the README's prose tells the user to type."""
    spans = re.findall(r"`\.venv/bin/flask --app wsgi ([^`]+)`", README)
    return [span.split() for span in spans]


def test_the_demo_serves_its_pages(running_demo: tuple[Path, int]) -> None:
    project, port = running_demo
    assert get(f"http://127.0.0.1:{port}/login") == 200
    assert get(f"http://127.0.0.1:{port}/dev/phone") == 200
    assert (project / "instance" / "demo.env").is_file()


def test_every_readme_command_is_there_in_a_fresh_terminal(
    running_demo: tuple[Path, int],
) -> None:
    # Every command loads the same app through wsgi.py, so one listing per group shows that
    # the settings reach them all (each load costs a second or two of CPU).
    project, _ = running_demo
    names = readme_command_names()
    assert ["db", "upgrade"] in names and ["tick"] in names and ["sync-plan"] in names
    listings = {}
    for group in sorted({tuple(name[:-1]) for name in names}):
        result = flask(project, *group, "--help")
        assert result.returncode == 0, (group, result.stderr)
        listings[group] = result.stdout
    for name in names:
        assert re.search(rf"^  {name[-1]}\b", listings[tuple(name[:-1])], re.MULTILINE), name


def test_the_readme_commands_work_on_the_demo(running_demo: tuple[Path, int]) -> None:
    project, _ = running_demo
    inline = readme_inline_commands()
    assert ["tick", "--next"] in inline
    for command in inline:
        result = flask(project, *command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    for command in (
        ["db", "upgrade"],
        ["create-api-token", "pharmacist@demo.example"],
        ["sync-plan", "D04"],
    ):
        result = flask(project, *command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "SECRET_KEY is required" not in result.stderr


def test_tick_next_sends_the_next_outreach_at_any_hour(running_demo: tuple[Path, int]) -> None:
    project, _ = running_demo
    # Each pass jumps to the next attempt a check-in waits for; some of those only wait (a
    # reply time running out), but the demo's patients always have a text or call ahead.
    outputs = []
    for _ in range(5):
        result = flask(project, "tick", "--next")
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
        if re.search(r"(texts sent|calls placed): [1-9]", result.stdout):
            break
    else:
        pytest.fail("no outreach in five passes:\n" + "\n".join(outputs))
