"""The worker process serves the Temporal SDK's metrics for Prometheus: ``python worker.py`` with
``DUNNING_METRICS_ADDRESS`` on a real dev server runs a risk review, and ``/metrics`` then shows
the series the alerts of docs/OPERATIONS.md are written on, labelled with our task queue."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.infra.files import REPO, k8s_object
from tests.integration.processes import environment, eventually, free_port, spawn, stop
from workflows.risk_review import RiskReviewInput, RiskReviewWorkflow

OPERATIONS = REPO / "docs" / "OPERATIONS.md"

# Emitted by a worker that ran one workflow with one activity (failure counters appear only
# after a failure, the sticky-cache eviction counter only under pressure).
EXPECTED = {
    "temporal_request",
    "temporal_num_pollers",
    "temporal_worker_task_slots_available",
    "temporal_workflow_task_schedule_to_start_latency_bucket",
    "temporal_workflow_task_execution_latency_bucket",
    "temporal_workflow_completed",
    "temporal_activity_schedule_to_start_latency_bucket",
    "temporal_activity_execution_latency_count",
    "temporal_sticky_cache_size",
}
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$", re.M)


def samples(text: str) -> dict[str, dict[str, str]]:
    """metric name -> {its labels: its value}."""
    found: dict[str, dict[str, str]] = {}
    for match in SAMPLE.finditer(text):
        found.setdefault(match["name"], {})[match["labels"] or ""] = match["value"]
    return found


@pytest.mark.slow
async def test_the_worker_process_serves_sdk_metrics(
    dev_server: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    address = f"127.0.0.1:{free_port()}"
    worker = spawn(
        [str(REPO / "worker.py")],
        environment(
            temporal_address=dev_server.client.service_client.config.target_host,
            task_queue=queue,
            data_dir=str(tmp_path),
            metrics_address=address,
            activity_concurrency="7",
            workflow_task_concurrency="5",
        ),
        tmp_path,
        tmp_path / "worker.log",
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=5) as http:

            async def scraped() -> str | None:
                try:
                    response = await http.get("/metrics")
                except httpx.TransportError:
                    assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                    return None
                return response.text if "temporal_num_pollers" in response.text else None

            await eventually(scraped, timeout=60, what="the worker's /metrics")
            outcome = await dev_server.client.execute_workflow(
                RiskReviewWorkflow.run,
                RiskReviewInput(),
                id=f"risk-review-{queue}",
                task_queue=queue,
                execution_timeout=timedelta(seconds=60),
            )
            assert outcome.scored == 0  # an empty ledger

            async def all_there() -> str | None:
                text = (await http.get("/metrics")).text
                return text if set(samples(text)) >= EXPECTED else None

            text = await eventually(all_there, timeout=30, what="the metrics of the workflow")
    finally:
        code = stop(worker)
    assert code == 0, (tmp_path / "worker.log").read_text()

    found = samples(text)
    for name in ("temporal_workflow_completed", "temporal_num_pollers"):
        for labels in found[name]:
            assert f'task_queue="{queue}"' in labels and 'namespace="default"' in labels, labels
    (completed,) = found["temporal_workflow_completed"].items()
    assert 'workflow_type="RiskReviewWorkflow"' in completed[0] and completed[1] == "1"
    # The worker build_worker made: DUNNING_ACTIVITY_CONCURRENCY is its activity slots.
    slots = found["temporal_worker_task_slots_available"]
    assert [v for k, v in slots.items() if 'worker_type="ActivityWorker"' in k] == ["7"]
    # DUNNING_WORKFLOW_TASK_CONCURRENCY is its workflow-task slots (less the one task that may
    # be in hand when scraped).
    workflow_slots = [v for k, v in slots.items() if 'worker_type="WorkflowWorker"' in k]
    assert workflow_slots in (["5"], ["4"])
    # durations_as_seconds: the buckets are seconds (le="0.001" …), not milliseconds.
    assert any('le="0.001"' in k for k in found["temporal_workflow_task_execution_latency_bucket"])


def test_the_documented_alerts_use_exported_series() -> None:
    """Every SDK series the alert table names is one this SDK exports (or its failure twin)."""
    table = OPERATIONS.read_text(encoding="utf-8").split("### The alerts", 1)[1]
    named = set(re.findall(r"\btemporal_[a-z_]+", table.split("### Logs", 1)[0]))
    failures = {"temporal_workflow_task_execution_failed", "temporal_activity_execution_failed"}
    assert named, "no SDK metric named in the alert table"
    assert named <= EXPECTED | failures, sorted(named - EXPECTED - failures)


def test_k8s_worker_exposes_the_metrics_port() -> None:
    worker = k8s_object("Deployment", "dunning-worker")
    pod = worker["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    config = k8s_object("ConfigMap", "dunning-config")["data"]
    host, _, port = config["DUNNING_METRICS_ADDRESS"].rpartition(":")
    assert host == "0.0.0.0", "the pod's IP must reach it"
    assert ports == {"metrics": int(port)}
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == port
    assert annotations["prometheus.io/path"] == "/metrics"
