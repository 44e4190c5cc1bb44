"""An open-loop load generator: requests at a fixed rate, whatever the server's answers do.

wrk (and any closed loop) sends the next request only when an answer came back, so a slow
server is asked less and its worst latencies are never measured ("coordinated omission").
Here request i is due at start + i / rate; it is sent then, on its own connection slot,
even if earlier ones are still waiting, and its latency counts from when it was due, not from
when a slot happened to be free. That is what a pharmacy sees from Twilio: replies arrive at
their own pace, and a slow answer does not slow the next patient's reply down.

    .venv/bin/python bench/openloop.py URL REQUESTS.tsv --rate 100 --seconds 30

REQUESTS.tsv has one request a line: the form body, a tab, the X-Twilio-Signature (as
bench/webhook.py writes them). Prints one JSON line: sent, errors, non-2xx, achieved rate
and latency percentiles in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import aiohttp


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(share * len(sorted_values)) - 1))
    return sorted_values[rank]


async def run(
    url: str, requests: list[tuple[str, str]], rate: float, seconds: float
) -> dict[str, float]:
    count = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    non_2xx = 0
    connector = aiohttp.TCPConnector(limit=256)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession(connector=connector) as client:

        async def one(i: int, due: float) -> None:
            nonlocal errors, non_2xx
            body, signature = requests[i % len(requests)]
            try:
                async with client.post(
                    url, data=body, headers={**headers, "X-Twilio-Signature": signature}
                ) as answer:
                    await answer.read()
                    non_2xx += not 200 <= answer.status < 300
            except aiohttp.ClientError:
                errors += 1
                return
            latencies.append(time.perf_counter() - due)

        start = time.perf_counter() + 0.1
        tasks = []
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    return {
        "sent": count,
        "errors": errors,
        "non_2xx": non_2xx,
        "rate": count / elapsed,
        "p50_ms": percentile(ms, 0.50),
        "p90_ms": percentile(ms, 0.90),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": ms[-1] if ms else 0.0,
        "mean_ms": statistics.fmean(ms) if ms else 0.0,
    }


def read_requests(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text().splitlines():
        body, _, signature = line.partition("\t")
        pairs.append((body, signature))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("requests", type=Path)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    result = asyncio.run(run(args.url, read_requests(args.requests), args.rate, args.seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
