"""Cost of reading a reply and of a whole dialog step, per reply, over the labelled corpus.

    .venv/bin/python -m bench.dialog_step [--rounds 20]

Three timings in one run, each the median of `--rounds` passes over every corpus reply:
the first version's yes/no reader (`dialogs.understand.read_text`, the baseline), the reader
(`dialogs.reader.read`), and a whole `dialogs.step` at the reply's question (reader, engine and
the texts it renders). Figures go to docs/benchmarks.md ("Dialog step").
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from collections.abc import Callable

import dialogs
from dialogs import reader, understand
from tests.corpus.evaluate import load


def _per_reply(run: Callable[[], None], count: int, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        timings.append((time.perf_counter() - start) / count)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    replies = load()
    texts = [r.text for r in replies]
    ctx = dialogs.Context(
        "Main Street Pharmacy", "(202) 555-0143", "Ann", datetime.date(2026, 12, 15), "sms", "en"
    )
    states = []
    for r in replies:
        dialog = dialogs.dialog_for("quick" if r.asked.startswith("quick") else "full")
        fresh = dialogs.step(dialog, None, dialogs.Start(), ctx).state
        states.append((dialog, dialogs.DialogState.from_json({**fresh.to_json(), "node": r.asked})))
    events = [dialogs.Reply(text=t) for t in texts]
    for text in texts:  # warm the regex and typo caches, as a running worker has them
        reader.read(text)

    def old() -> None:
        for text in texts:
            understand.read_text(text)

    def new() -> None:
        for text in texts:
            reader.read(text)

    def steps() -> None:
        for (dialog, state), event in zip(states, events, strict=True):
            dialogs.step(dialog, state, event, ctx)

    n = len(texts)
    baseline = _per_reply(old, n, args.rounds)
    read = _per_reply(new, n, args.rounds)
    step = _per_reply(steps, n, args.rounds)
    print(f"{n} corpus replies, median of {args.rounds} rounds, per reply:")
    print(f"  first version's yes/no reader   {baseline * 1e6:8.1f} us")
    print(f"  reader (dialogs.reader.read)    {read * 1e6:8.1f} us  ({read / baseline:.1f}x)")
    print(f"  whole dialog step               {step * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
