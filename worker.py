"""The Temporal worker: the invoice workflow and its activities, on the ``dunning`` task queue.

Run ``python worker.py`` (or ``dunning worker``) against the Temporal address in settings.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.channels.base import ChannelSender
from activities.channels.registry import build_senders
from activities.dunning import DunningActivityImpl
from activities.risk import RiskActivities
from api.temporal import connect, metrics_runtime
from config.logging import configure_logging
from config.settings import Settings, get_settings
from dunning_policies.language import Channel
from ledger.db import create_ledger_engine, make_session_factory, upgrade_to_head
from ledger.group_commit import GroupCommit
from workflows.customer_contact import CustomerContactWorkflow
from workflows.invoice import InvoiceDunningWorkflow
from workflows.risk_review import RiskReviewWorkflow

log = structlog.get_logger()


def build_worker(
    client: Client,
    settings: Settings,
    sessions: sessionmaker[Session],
    senders: Mapping[Channel, ChannelSender] | None = None,
    executor: ThreadPoolExecutor | None = None,
) -> Worker:
    """The worker; ``executor`` runs the providers' blocking SDK calls (default: a pool of
    ``settings.activity_threads``)."""
    by_channel = senders or {Channel(k): v for k, v in build_senders(settings).items()}
    activities = DunningActivityImpl(
        GroupCommit(sessions),
        by_channel,
        settings,
        executor or ThreadPoolExecutor(settings.activity_threads, thread_name_prefix="provider"),
    )
    risk = RiskActivities(sessions, client)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[InvoiceDunningWorkflow, CustomerContactWorkflow, RiskReviewWorkflow],
        activities=[
            activities.send_message,
            activities.record_progress,
            activities.request_contact,
            activities.abandon_send,
            activities.record_late_contact,
            risk.score_customers,
            risk.signal_segment_change,
        ],
        max_concurrent_activities=settings.activity_concurrency,
        max_cached_workflows=settings.max_cached_workflows,
        max_concurrent_workflow_tasks=settings.workflow_task_concurrency,
        graceful_shutdown_timeout=timedelta(seconds=20),
    )


async def run_worker(settings: Settings) -> None:
    upgrade_to_head(settings.ledger_url)
    sessions = make_session_factory(create_ledger_engine(settings.ledger_url))
    # The one runtime of this process: with DUNNING_METRICS_ADDRESS it serves /metrics.
    client = await connect(settings, metrics_runtime(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_worker(client, settings, sessions):
        log.info(
            "worker started",
            temporal=settings.temporal_address,
            queue=settings.task_queue,
            tls=settings.temporal_tls,
            metrics=settings.metrics_address or None,
        )
        await stop.wait()
        log.info("worker stopping: finishing the activities in flight")
    log.info("worker stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))
    # The Temporal core runtime can abort the interpreter at exit after a clean stop
    # (sdk-python #300); everything is flushed and shut down by now, so leave deliberately.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
