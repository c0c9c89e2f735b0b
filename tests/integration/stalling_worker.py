"""A worker whose channels stall forever right after the outbox row is written: the test
kills it with SIGKILL there, between the ledger write and the provider call."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

from activities.channels.base import OutboundMessage
from api.temporal import connect
from config.logging import configure_logging
from config.settings import get_settings
from dunning_policies.language import Channel
from ledger.db import create_ledger_engine, make_session_factory
from worker import build_worker


class StallingSender:
    provider = "console"
    blocking = True

    def __init__(self, marker: Path) -> None:
        self._marker = marker

    def send(self, message: OutboundMessage) -> str:
        self._marker.write_text(message.idempotency_key)
        threading.Event().wait()  # until the process is killed
        raise AssertionError("unreachable")


async def main(marker: Path) -> None:
    settings = get_settings()
    configure_logging("INFO", "json")
    sessions = make_session_factory(create_ledger_engine(settings.ledger_url))
    client = await connect(settings)
    senders = {channel: StallingSender(marker) for channel in Channel}
    await build_worker(client, settings, sessions, senders).run()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
