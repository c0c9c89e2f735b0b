"""The Temporal worker: the invoice workflow and its activities, on the ``dunning`` task queue.

Run ``python worker.py`` (or ``dunning worker``) against the Temporal address in settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.channels.base import ChannelSender
from activities.channels.registry import build_senders
from activities.dunning import DunningActivityImpl
from api.temporal import connect
from config.logging import configure_logging
from config.settings import Settings, get_settings
from dunning_policies.language import Channel
from ledger.db import create_ledger_engine, make_session_factory, upgrade_to_head
from workflows.invoice import InvoiceDunningWorkflow

log = structlog.get_logger()


def build_worker(
    client: Client,
    settings: Settings,
    sessions: sessionmaker[Session],
    senders: Mapping[Channel, ChannelSender] | None = None,
    executor: ThreadPoolExecutor | None = None,
) -> Worker:
    by_channel = senders or {Channel(k): v for k, v in build_senders(settings).items()}
    activities = DunningActivityImpl(sessions, by_channel, settings)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[InvoiceDunningWorkflow],
        activities=[activities.send_message, activities.record_progress],
        activity_executor=executor or ThreadPoolExecutor(max_workers=settings.activity_threads),
        max_concurrent_activities=settings.activity_threads,
    )


async def run_worker(settings: Settings) -> None:
    upgrade_to_head(settings.ledger_url)
    sessions = make_session_factory(create_ledger_engine(settings.ledger_url))
    client = await connect(settings)
    worker = build_worker(client, settings, sessions)
    log.info("worker started", temporal=settings.temporal_address, task_queue=settings.task_queue)
    await worker.run()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
