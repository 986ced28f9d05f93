"""Compliance checker benchmark: how long one call transcript takes to check.

    .venv/bin/python bench/compliance_bench.py      # or: make bench

Builds call transcripts of 10,000 characters (the issue's size; also 2,000, a typical call, and
20,000, the API's limit) from the labelled utterances shipped with the checker (Chinese,
English and mixed, speaker labels, violations and compliant near misses), in a fixed random
order, and checks each one with `check_text` (the library's patterns, the numeric checks
against the parameters, and the learned model when `data/model.json` is there), then with the
rules alone. Prints p50, p95 and p99 in milliseconds, checks per second and characters per
second, and whether the 10,000-character p95 is under 20 ms. Pure CPU: no database needed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carloan.compliance.checker import check_text  # noqa: E402

DATA = ROOT / "carloan" / "compliance" / "data"
PARAMETERS = {"risk.max_ltv_pct": 80, "marketing.max_promo_discount_pct": 10}
TARGET_MS = 20.0


def utterances() -> list[str]:
    texts: list[str] = []
    for name in ("tuning.jsonl", "training_a.jsonl", "training_b.jsonl"):
        path = DATA / name
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                texts += [json.loads(line)["text"] for line in handle if line.strip()]
    return texts


def transcripts(size: int, count: int, seed: int = 7) -> list[str]:
    """`count` transcripts of `size` characters: agent and customer turns taken at random."""
    pool = utterances()
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        turns: list[str] = []
        length = 0
        while length < size:
            speaker = rng.choice(("坐席：", "客户：", "Agent: ", "Customer: "))
            turn = speaker + rng.choice(pool) + "\n"
            turns.append(turn)
            length += len(turn)
        out.append("".join(turns)[:size])
    return out


def measure(texts: list[str], *, use_model: bool, rounds: int) -> list[float]:
    for text in texts[:3]:  # warm caches (compiled patterns, the model)
        check_text(text, parameters=PARAMETERS, use_model=use_model)
    timings = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            check_text(text, parameters=PARAMETERS, use_model=use_model)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="transcripts per size")
    parser.add_argument("--rounds", type=int, default=4, help="passes over them")
    args = parser.parse_args()
    print(
        f"{'size':>7} {'checker':<14} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'checks/s':>9} {'Mchar/s':>8}"
    )
    verdict = True
    for size in (2_000, 10_000, 20_000):
        texts = transcripts(size, args.count)
        for use_model, label in ((True, "rules+model"), (False, "rules only")):
            timings = measure(texts, use_model=use_model, rounds=args.rounds)
            mean = statistics.fmean(timings)
            p95 = quantile(timings, 0.95)
            print(
                f"{size:>7} {label:<14} {quantile(timings, 0.5):>8.2f} {p95:>8.2f} "
                f"{quantile(timings, 0.99):>8.2f} {1000 / mean:>9.0f} "
                f"{size / mean / 1000:>8.2f}"
            )
            if size == 10_000 and use_model:
                verdict = p95 < TARGET_MS
    print(
        f"\n10,000-character transcript, rules+model: p95 under {TARGET_MS:g} ms: "
        f"{'yes' if verdict else 'NO'}"
    )
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
