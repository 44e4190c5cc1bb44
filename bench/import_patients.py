"""Benchmark `import-patients`: time and peak memory for a small and a large file, same run.

Bounded memory means the peak barely grows when the file grows tenfold. Usage:

    .venv/bin/python bench/import_patients.py [--rows 100000] [--database-url URL]

Each size runs in its own fresh process so peaks do not mix; the default database is a new
SQLite file per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "patient_id,first_name,last_name,phone,language,anchor_date,consent_date,"
    "medication,med_type,days_supply,quantity,daily_dose\n"
)
MEDS_PER_PATIENT = 5


def write_csv(path: Path, rows: int) -> None:
    """Write `rows` medicine rows, five per patient, anchored in the coming weeks."""
    first_anchor = dt.date.today() + dt.timedelta(days=2)  # never in the past: those are refused
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows):
            patient = n // MEDS_PER_PATIENT
            phone = f"(202) 555-{patient % 10000:04d}"
            anchor = first_anchor + dt.timedelta(days=patient % 28)
            language = "es" if patient % 5 == 0 else "en"
            medicine = f"Drug {n % MEDS_PER_PATIENT} 10 mg"
            out.write(
                f"P{patient},Pat{patient},Last{patient},{phone},{language},"
                f"{anchor},2026-01-01,{medicine},maintenance,30,30,1\n"
            )


def measure(rows: int, database_url: str | None) -> dict[str, float]:
    """Import a generated file in a child process; return seconds and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "patients.csv"
        write_csv(csv_path, rows)
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        env = {**os.environ, "DATABASE_URL": url, "MEDSYNC_DEMO": "1", "LOG_LEVEL": "WARNING"}
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        code = (
            "import resource, subprocess, sys, time;"
            "start = time.perf_counter();"
            f"subprocess.run({[*flask, 'import-patients', str(csv_path)]!r}, check=True,"
            " stdout=subprocess.DEVNULL);"
            "print(time.perf_counter() - start,"
            " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        if database_url:
            subprocess.run(
                [*flask, "db", "downgrade", "base"],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        return {"rows": rows, "seconds": float(out[0]), "peak_rss_mb": int(out[1]) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    small = measure(args.rows // 10, args.database_url)
    large = measure(args.rows, args.database_url)
    result = {
        "small": small,
        "large": large,
        "memory_ratio": large["peak_rss_mb"] / small["peak_rss_mb"],
        "rows_per_second_large": large["rows"] / large["seconds"],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
