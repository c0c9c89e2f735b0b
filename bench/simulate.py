"""Benchmark: the policy simulator over N synthetic invoice lifecycles of 120 days.

    .venv/bin/python -m bench.simulate [--invoices 100000] [--workers 2] [--sample 2000] [--json]

Goal: 100,000 lifecycles under 60 s on a 2-core machine.

- ours: ``analytics.simulator.simulate`` of the standard policy over the synthetic book (the
  bundled payer model, seed 7), in ``--workers`` processes; the wall time excludes building the
  book, which is timed apart.
- baseline: the bare engine loop, as the policy preview runs it: ``plan(policy, state)`` of one
  invoice at a time, no payer (nobody pays, so every lifecycle runs to the agency), single
  process, on the book's first ``--sample`` invoices; its time per lifecycle is extrapolated to
  N. It is the cost of the engine alone, without the payers, the customers' shared contact
  queue and the figures, on one core.

The ratio is ours / baseline: below 1 the simulator (payments end lifecycles early; workers run
in parallel) beats one core of the bare engine; above 1 is its overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from analytics.book_file import from_synthetic
from analytics.payer_model import PayerModel
from analytics.simulator import invoice_state, simulate
from analytics.synthetic_book import synthetic_book
from dunning_policies.preview import plan
from dunning_policies.registry import get_policy

GOAL_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=2_000, help="invoices of the baseline")
    parser.add_argument("--policy", default="standard")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    book = from_synthetic(synthetic_book(args.invoices, seed=7))
    book_seconds = time.perf_counter() - started

    policy = get_policy(args.policy)
    sample = book[: min(args.sample, len(book))]
    started = time.perf_counter()
    for invoice in sample:
        plan(policy, invoice_state(invoice))
    per_lifecycle = (time.perf_counter() - started) / len(sample)
    baseline_seconds = per_lifecycle * len(book)

    started = time.perf_counter()
    [result] = simulate(
        book,
        [args.policy],
        model=PayerModel.default(),
        seed=7,
        days=args.days,
        workers=args.workers,
    )
    ours_seconds = time.perf_counter() - started

    figures = {
        "invoices": len(book),
        "days": args.days,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "book_seconds": round(book_seconds, 2),
        "ours_seconds": round(ours_seconds, 2),
        "lifecycles_per_second": round(len(book) / ours_seconds, 1),
        "baseline_ms_per_lifecycle": round(per_lifecycle * 1000, 3),
        "baseline_sample": len(sample),
        "baseline_seconds_extrapolated": round(baseline_seconds, 2),
        "ratio_ours_to_baseline": round(ours_seconds / baseline_seconds, 3),
        "goal_seconds": GOAL_SECONDS,
        "within_goal": ours_seconds < GOAL_SECONDS,
        "invoices_paid": result.invoices_paid,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"book: {len(book):,} synthetic invoices built in {book_seconds:.1f} s")
    print(
        f"baseline (bare plan(), 1 process, {len(sample):,} sampled): "
        f"{per_lifecycle * 1000:.3f} ms per lifecycle → {baseline_seconds:.1f} s for {len(book):,}"
    )
    print(
        f"ours ({args.workers} workers, payer model): {ours_seconds:.1f} s, "
        f"{len(book) / ours_seconds:,.0f} lifecycles/s, {result.invoices_paid:,} paid"
    )
    verdict = "within" if ours_seconds < GOAL_SECONDS else "over"
    print(
        f"ratio ours / baseline: {ours_seconds / baseline_seconds:.2f}; "
        f"{verdict} the {GOAL_SECONDS:.0f} s goal"
    )


if __name__ == "__main__":
    main()
