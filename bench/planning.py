"""Benchmark `adherence` and `candidates` on generated fills files: seconds and peak memory.

Each command runs as `flask --app wsgi ...` in its own fresh process, on a header-only file
(the baseline: the app's own footprint), on a file of a tenth of the fills and on the full one,
so the memory the fills themselves take shows as the difference. Rows are shuffled: an export
that is not sorted by patient is the worst case, since every fill is held until the file ends.
Usage:

    .venv/bin/python bench/planning.py [--fills 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "patient_id,drug,ingredient,drug_class,fill_date,days_supply\n"
DRUGS = [
    ("Lisinopril 10 mg", "lisinopril", "RASA"),
    ("Losartan 50 mg", "losartan", "RASA"),
    ("Zestoretic 20/12.5", "lisinopril/hydrochlorothiazide", "RASA"),
    ("Atorvastatin 20 mg", "atorvastatin", "statin"),
    ("Simvastatin 40 mg", "simvastatin", "statin"),
    ("Metformin 500 mg", "metformin", "diabetes"),
    ("Glipizide 5 mg", "glipizide", "diabetes"),
    ("Amlodipine 5 mg", "amlodipine", "CCB"),
    ("Levothyroxine 50 mcg", "levothyroxine", "thyroid"),
]
START = dt.date(2026, 1, 1)
END = dt.date(2026, 12, 31)


def write_csv(path: Path, fills: int, seed: int = 8) -> None:
    """Write about `fills` rows for a year: 3 to 5 drugs a patient, 30 or 90 days each."""
    rng = random.Random(seed)
    rows: list[str] = []
    patient = 0
    while len(rows) < fills:
        patient += 1
        for drug, ingredient, drug_class in rng.sample(DRUGS, rng.randint(3, 5)):
            supply = rng.choice([30, 30, 30, 90])
            day = START + dt.timedelta(days=rng.randint(0, 60))
            while day <= END and len(rows) < fills:
                rows.append(f"P{patient:06d},{drug},{ingredient},{drug_class},{day},{supply}\n")
                # Most refill a few days early or late; some lapse for weeks.
                late = rng.choice([-5, -2, 0, 0, 1, 3, 7, 20, 45])
                day += dt.timedelta(days=max(supply + late, 1))
    rng.shuffle(rows)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        out.writelines(rows)


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run one flask command in a child process; return seconds and its peak RSS in MB."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    code = (
        "import resource, subprocess, sys, time;"
        "start = time.perf_counter();"
        f"subprocess.run({command!r}, check=True, stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL);"
        "print(time.perf_counter() - start,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fills", type=int, default=100_000)
    options = parser.parse_args()
    period = ["--from", str(START), "--to", str(END)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "MEDSYNC_DEMO": "1",
            "LOG_LEVEL": "WARNING",
        }
        for fills in (0, options.fills // 10, options.fills):
            path = Path(tmp) / f"fills-{fills}.csv"
            write_csv(path, fills)
            for command in (["adherence", "--json"], ["candidates", "--json"]):
                seconds, rss = measure([command[0], str(path), *period, *command[1:]], env)
                results.append(
                    {"command": command[0], "fills": fills, "seconds": seconds, "peak_rss_mb": rss}
                )
    base = {r["command"]: r["peak_rss_mb"] for r in results if r["fills"] == 0}
    for result in results:
        fills = int(result["fills"])
        extra = float(result["peak_rss_mb"]) - base[str(result["command"])]
        result["rss_above_empty_mb"] = extra
        result["bytes_per_fill"] = extra * 1024 * 1024 / fills if fills else None
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
