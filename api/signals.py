"""Telling a running invoice workflow what happened; a closed one cannot hear it any more."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

log = structlog.get_logger()


async def signal_invoice(client: Client, workflow_id: str, signal: Any, arg: Any) -> bool:
    """Send ``signal``; False when the workflow has already ended (paid, cancelled, credited)."""
    try:
        await client.get_workflow_handle(workflow_id).signal(signal, arg)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        log.info("workflow already closed; signal not delivered", workflow=workflow_id)
        return False
    return True
