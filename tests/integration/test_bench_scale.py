"""bench.scale: its helpers, and a tiny run of the measurement itself (dev server, PostgreSQL,
one then two real worker processes, ten lifecycles each)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.scale import (
    COMPONENTS,
    Plan,
    Snapshot,
    cores,
    measure,
    percentile,
    ratio,
    run_order,
    scale_policy,
)
from dunning_policies.checks import check_policy
from tests.ledger_support import require_postgres


def test_percentiles_interpolate_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 5.0
    assert percentile([7.0], 95) == 7.0


def test_ratios_are_to_the_baseline() -> None:
    assert ratio(30.0, 20.0) == "1.50x"
    assert ratio(1.0, 0.0) == "-"


def test_cores_share_the_phase_and_the_rest_is_others() -> None:
    start = Snapshot(
        wall=10.0,
        busy=100.0,
        groups={"server": {1: 5.0}, "workers": {2: 1.0}, "postgres": {}, "bench": {0: 2.0}},
    )
    end = Snapshot(
        wall=12.0,
        busy=104.0,
        groups={
            "server": {1: 6.0},
            "workers": {2: 2.0, 3: 1.0},  # a worker started in between counts from zero
            "postgres": {9: 0.2},
            "bench": {0: 2.2},
        },
    )
    used = cores(start, end)
    assert list(used) == list(COMPONENTS)
    assert used["server"] == pytest.approx(0.5)
    assert used["workers"] == pytest.approx(1.0)
    assert used["postgres"] == pytest.approx(0.1)
    assert used["bench"] == pytest.approx(0.1)
    assert used["others"] == pytest.approx(0.3)


def test_the_policy_is_valid_and_the_rounds_go_there_and_back() -> None:
    policy = scale_policy(datetime(2026, 12, 1, 13, 0, 5, tzinfo=UTC), 20, 5)
    assert check_policy(policy) == []
    assert Plan.first(200).lead > 15
    assert run_order([1, 2, 4], 2) == [1, 2, 4, 4, 2, 1]
    assert run_order([1, 2], 3) == [1, 2, 2, 1, 1, 2]


@pytest.mark.slow
@pytest.mark.postgres
async def test_a_tiny_run_measures_every_lifecycle() -> None:
    require_postgres()
    first, second = await measure(10, [1, 2])
    for result in (first, second):
        assert len(result.pickup) == len(result.sent) == len(result.handoff) == 10
        assert result.start_rate > 0 and result.lifecycles_per_second > 0
        assert min(result.sent) >= 0 and min(result.handoff) >= 0
        assert set(result.cpu) == {"issue", "reminder", "task", "handoff"}
    assert (first.workers, second.workers) == (1, 2)
