"""docs/checkin.mmd is generated from the check-in declaration and must not go stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dialogs import CHECKIN_FULL, CHECKIN_QUICK
from dialogs.diagram import mermaid

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "docs" / "checkin.mmd"
FORMS = (CHECKIN_QUICK, CHECKIN_FULL)


def test_it_keeps_the_committed_diagram_up_to_date() -> None:
    regenerate = "python -m dialogs.diagram > docs/checkin.mmd"
    assert DIAGRAM.read_text(encoding="utf-8") == mermaid(FORMS), (
        f"docs/checkin.mmd is stale; regenerate it with: {regenerate}"
    )


def test_it_draws_both_forms_with_every_node_answer_and_fallback() -> None:
    text = mermaid(FORMS)
    assert text.startswith("%%") and "stateDiagram-v2\n" in text
    for prefix, dialog in (("quick", CHECKIN_QUICK), ("full", CHECKIN_FULL)):
        for node in dialog.nodes:
            assert f"        {prefix}_{node.id}: {node.id} (" in text
    for edge in [
        "    [*] --> quick_quick: first text, inbound call",
        "    [*] --> quick_identity: outbound call",
        "    quick_quick --> quick_closing: no",
        "    quick_quick --> quick_quick_details: bare yes",
        "    quick_quick --> quick_quick_more: words with findings",
        "    quick_quick_more --> quick_closing: words (findings or a concern)",
        "    full_med_change --> full_med_change_details: yes",
        "    full_med_change --> full_adherence: yes with details, or words that report it",
        "    full_med_change --> full_adherence: no",
        "    full_concern --> full_closing: question in words",
        "    full_identity --> full_med_change: 1 or yes (intro, then the first question)",
        "any_question --> any_question: HELP / AYUDA (help text, same question)",
        "any_question --> opted_out: opt-out word, clear revocation, 9",
        "any_question --> callback_request: asks for a person, 0",
        "any_question --> needs_human: ambiguous revocation, not understood x2",
    ]:
        assert edge in text, edge


def test_it_prints_the_diagram_from_the_command_line() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "dialogs.diagram"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert printed == mermaid(FORMS)
