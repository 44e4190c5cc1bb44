"""docs/checkin.mmd is generated from the check-in declaration and must not go stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dialogs import CHECKIN
from dialogs.diagram import mermaid

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "docs" / "checkin.mmd"


def test_it_keeps_the_committed_diagram_up_to_date() -> None:
    regenerate = "python -m dialogs.diagram > docs/checkin.mmd"
    assert DIAGRAM.read_text(encoding="utf-8") == mermaid(CHECKIN), (
        f"docs/checkin.mmd is stale; regenerate it with: {regenerate}"
    )


def test_it_draws_every_node_answer_and_fallback() -> None:
    text = mermaid(CHECKIN)
    assert text.startswith("%%") and "stateDiagram-v2\n" in text
    for node in CHECKIN.nodes:
        assert f"    {node.id}: {node.id} (" in text
    for edge in [
        "[*] --> med_change: start",
        "med_change --> med_change_details: yes",
        "med_change --> adherence: yes with details",
        "med_change --> adherence: no",
        "med_change_details --> adherence: details",
        "health_change --> concern: no",
        "concern --> closing: no",
        "concern --> closing: question in words",
        "concern_details --> closing: details",
        "any_question --> any_question: HELP / AYUDA (help text, same question)",
        "any_question --> opted_out: opt-out word, clear revocation, 9",
        "any_question --> callback_request: asks for a person, 0",
        "any_question --> needs_human: ambiguous revocation, not understood x2",
    ]:
        assert f"    {edge}" in text, edge


def test_it_prints_the_diagram_from_the_command_line() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "dialogs.diagram"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert printed == mermaid(CHECKIN)
