"""Static checks of the deployment files in infra/: they are written here, never run here.

No Docker engine is needed: YAML is read with PyYAML, and ``docker compose config`` runs only
where the compose plugin exists.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from config.settings import SEARCH_ATTRIBUTES, Settings
from tests.infra.files import (
    COMPOSE,
    DOCKERFILE,
    DUNNING_NAME,
    ENV_EXAMPLE,
    INFRA,
    INIT_DB_SCRIPT,
    K8S,
    REGISTER_SCRIPT,
    REPO,
    SENSITIVE_PLAIN,
    compose,
    env_example_lines,
    k8s_documents,
    k8s_object,
    load_yaml,
    secret_env_names,
    setting_env_names,
    text_files_under_infra,
    yaml_files,
)

# --- YAML ---------------------------------------------------------------------------------


def test_there_are_yaml_files_to_check() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in yaml_files()}
    assert {"compose.yaml", "temporal/dynamicconfig.yaml", "k8s/kustomization.yaml"} <= names


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: p.relative_to(INFRA).as_posix())
def test_every_yaml_file_parses(path: Path) -> None:
    documents = load_yaml(path)
    assert documents, f"{path} has no YAML document"
    assert all(isinstance(doc, dict) and doc for doc in documents), path


# --- settings names -------------------------------------------------------------------------


def test_every_dunning_name_in_infra_is_a_setting() -> None:
    known = setting_env_names()
    unknown = {
        f"{path.relative_to(REPO)}: {name}"
        for path in text_files_under_infra()
        for name in DUNNING_NAME.findall(path.read_text(encoding="utf-8"))
        if name not in known
    }
    assert not unknown, f"not fields of config.settings.Settings: {sorted(unknown)}"


def test_env_example_lists_every_setting_once() -> None:
    names = [line.name for line in env_example_lines() if line.name.startswith("DUNNING_")]
    assert sorted(names) == sorted(setting_env_names()), "env.example must list every setting"
    assert len(names) == len(set(names)), "a setting is listed twice in env.example"


def test_every_env_example_setting_has_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    assignments = {line.number for line in env_example_lines()}
    for entry in env_example_lines():
        if not entry.name.startswith("DUNNING_"):
            continue
        number = entry.number - 1  # the line above, 1-based
        while number in assignments:  # a group of settings shares the comment above it
            number -= 1
        above = lines[number - 1].strip() if number >= 1 else ""
        assert above.startswith("#") and not above.startswith("# ---"), (
            f"env.example line {entry.number}: {entry.name} has no comment above it"
        )


def test_env_example_keeps_secrets_empty() -> None:
    sensitive = secret_env_names() | SENSITIVE_PLAIN
    for entry in env_example_lines():
        if entry.name in sensitive or re.search(r"PASSWORD|PWD|TOKEN|SECRET", entry.name):
            assert entry.value == "", f"env.example line {entry.number}: {entry.name} has a value"


def test_env_example_defaults_are_the_real_defaults() -> None:
    fields = setting_env_names()
    for entry in env_example_lines():
        if entry.commented and entry.name in fields:
            default = Settings.model_fields[fields[entry.name]].default
            assert entry.value == str(default), (
                f"env.example line {entry.number}: {entry.name}={entry.value}, "
                f"but the default is {default!r}"
            )


def test_env_example_loads_into_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DUNNING_"):
            monkeypatch.delenv(name)
    settings = Settings(_env_file=ENV_EXAMPLE)
    fields = setting_env_names()
    for entry in env_example_lines():
        if entry.commented or entry.name not in fields:
            continue
        value = getattr(settings, fields[entry.name])
        if hasattr(value, "get_secret_value"):
            shown = value.get_secret_value()
        elif isinstance(value, dict):  # a JSON setting, written as JSON
            shown = json.dumps(value, default=str, separators=(",", ":"))
        else:
            shown = str(value)
        assert shown == entry.value, entry.name


# --- compose --------------------------------------------------------------------------------

SERVICES = {"postgresql", "temporal", "temporal-ui", "temporal-setup", "migrate", "worker", "api"}
REQUIRED = re.compile(r"\$\{(?P<var>[A-Z][A-Z0-9_]*):\?[^}]+\}")


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment") or {}
    assert isinstance(env, dict), f"{service}: write environment as a mapping"
    return {str(k): str(v) for k, v in env.items()}


def depends_on(service: str) -> dict[str, str]:
    deps = services()[service].get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def test_compose_has_the_services() -> None:
    assert set(services()) == SERVICES


def test_compose_dependencies_exist_and_make_sense() -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name in services():
        for target, condition in depends_on(name).items():
            assert target in services(), f"{name} depends on unknown service {target}"
            assert condition in conditions, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services()[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert services()[target].get("restart") == "no", f"{target} is not one-shot"


def test_compose_dependencies_have_no_cycle() -> None:
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        assert state.get(name) != "open", f"dependency cycle: {' -> '.join([*path, name])}"
        if state.get(name) == "done":
            return
        state[name] = "open"
        for target in depends_on(name):
            visit(target, [*path, name])
        state[name] = "done"

    for name in services():
        visit(name, [])


def test_compose_startup_order() -> None:
    assert depends_on("temporal") == {"postgresql": "service_healthy"}
    for app in ("worker", "api"):
        deps = depends_on(app)
        assert deps.get("temporal-setup") == "service_completed_successfully", app
        assert deps.get("migrate") == "service_completed_successfully", app
    assert depends_on("migrate") == {"postgresql": "service_healthy"}


def test_compose_volumes_and_mounts_exist() -> None:
    declared = set(compose().get("volumes") or {})
    for name, service in services().items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (INFRA / source).resolve().is_file(), f"{name}: missing {source}"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_compose_images_are_pinned() -> None:
    for name, service in services().items():
        if "build" in service:
            continue
        image = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", service["image"])  # the defaults
        _, _, tag = image.rpartition("/")[2].partition(":")
        assert tag and tag != "latest", f"{name}: pin the image tag ({service['image']})"


def test_compose_builds_the_dockerfile() -> None:
    for name, service in services().items():
        if "build" not in service:
            continue
        context = (INFRA / service["build"]["context"]).resolve()
        assert context == REPO, f"{name}: the build context must be the repository root"
        assert (context / service["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert {n for n, s in services().items() if "build" in s} == {"migrate", "worker", "api"}


def test_compose_postgresql() -> None:
    db = services()["postgresql"]
    assert db["image"] == "postgres:15"
    assert any(m.endswith(":/var/lib/postgresql/data") for m in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    init = [m for m in db["volumes"] if "/docker-entrypoint-initdb.d/" in m]
    assert len(init) == 1 and (INFRA / init[0].split(":")[0]).resolve() == INIT_DB_SCRIPT


def test_compose_temporal_on_postgresql_with_dynamic_config() -> None:
    temporal = services()["temporal"]
    env = environment("temporal")
    assert temporal["image"].startswith("temporalio/auto-setup:")
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    path = env["DYNAMIC_CONFIG_FILE_PATH"]
    mounts = dict(m.split(":")[:2] for m in temporal["volumes"])
    mounted = {target: source for source, target in mounts.items()}
    target = f"/etc/temporal/{path}"
    assert target in mounted, f"{path} is not mounted"
    assert (INFRA / mounted[target]).resolve() == INFRA / "temporal" / "dynamicconfig.yaml"
    assert env["SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES"] == "true"
    assert services()["temporal-ui"]["image"].startswith("temporalio/ui:")


def test_compose_separates_temporal_and_ledger_databases() -> None:
    sql = INIT_DB_SCRIPT.read_text(encoding="utf-8")
    owners = dict(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+);", sql))
    roles = set(re.findall(r"CREATE ROLE (\w+) LOGIN", sql))

    temporal = environment("temporal")
    temporal_user = temporal["POSTGRES_USER"]
    temporal_dbs = {temporal["DBNAME"], temporal["VISIBILITY_DBNAME"]}
    assert temporal.get("SKIP_DB_CREATE") == "true"

    url = ledger_url_parts("worker")
    assert {temporal_user, url["user"]} <= roles
    assert temporal_user != url["user"], "Temporal and the ledger must not share a role"
    assert url["db"] not in temporal_dbs
    assert {db: owners.get(db) for db in temporal_dbs} == dict.fromkeys(temporal_dbs, temporal_user)
    assert owners.get(url["db"]) == url["user"]
    for db in (*temporal_dbs, url["db"]):
        assert f"REVOKE ALL ON DATABASE {db} FROM PUBLIC;" in sql

    # The same variable sets each password on both sides.
    db_env = environment("postgresql")
    assert required_var(temporal["POSTGRES_PWD"]) == "TEMPORAL_DB_PASSWORD"
    assert required_var(url["password"]) == "LEDGER_DB_PASSWORD"
    assert required_var(db_env["TEMPORAL_DB_PASSWORD"]) == "TEMPORAL_DB_PASSWORD"
    assert required_var(db_env["LEDGER_DB_PASSWORD"]) == "LEDGER_DB_PASSWORD"


def required_var(value: str) -> str:
    """The variable of a required interpolation ``${VAR:?message}``."""
    match = REQUIRED.fullmatch(value)
    assert match, f"{value!r} is not a required ${{VAR:?...}}"
    return match["var"]


def ledger_url_parts(service: str) -> dict[str, str]:
    url = environment(service)["DUNNING_DATABASE_URL"]
    match = re.fullmatch(
        r"postgresql\+psycopg://(?P<user>\w+):(?P<password>\$\{[^}]+\})@(?P<host>[\w-]+)"
        r":(?P<port>\d+)/(?P<db>\w+)",
        url,
    )
    assert match, f"{service}: unexpected DUNNING_DATABASE_URL {url}"
    assert match["host"] in services()
    return match.groupdict()


def test_compose_worker_and_api() -> None:
    for name in ("worker", "api", "migrate"):
        parts = ledger_url_parts(name)
        assert (parts["user"], parts["host"], parts["port"], parts["db"]) == (
            "dunning",
            "postgresql",
            "5432",
            "dunning",
        )
        env_files = services()[name]["env_file"]
        assert [entry["path"] for entry in env_files] == [".env"], name
    for name in ("worker", "api"):
        assert environment(name)["DUNNING_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert "command" not in services()["worker"], "the worker runs the image's CMD"
    assert services()["api"]["command"] == ["dunning", "api", "--host", "0.0.0.0"]
    assert services()["api"]["ports"] == ["8000:8000"]


def test_compose_env_file_is_ignored_by_git() -> None:
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in [line.strip() for line in ignored], ".env must be in .gitignore"
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        return
    for path in ("infra/.env", ".env"):
        check = subprocess.run(
            [git, "check-ignore", "-q", "--no-index", path], cwd=REPO, check=False
        )
        assert check.returncode == 0, f"{path} is not ignored by git"
        tracked = subprocess.run(
            [git, "ls-files", "--error-unmatch", path], cwd=REPO, capture_output=True, check=False
        )
        assert tracked.returncode != 0, f"{path} is committed"


def test_compose_commits_no_secret() -> None:
    secret_names = secret_env_names()
    for name in services():
        for key, value in environment(name).items():
            assert key not in secret_names, f"{name}: {key} belongs in infra/.env"
            if re.search(r"PASSWORD|PWD|SECRET|TOKEN|API_KEY", key):
                assert REQUIRED.fullmatch(value), f"{name}: {key} must be a required ${{VAR}}"
        if "DUNNING_DATABASE_URL" in environment(name):
            assert REQUIRED.fullmatch(ledger_url_parts(name)["password"])


def test_compose_variables_are_documented_in_env_example() -> None:
    documented = {line.name: line for line in env_example_lines()}
    text = COMPOSE.read_text(encoding="utf-8")
    for var, operator, default in re.findall(r"\$\{([A-Z][A-Z0-9_]*)(:[-?])?([^}]*)\}", text):
        assert var in documented, f"${{{var}}} is not in env.example"
        if operator == ":?":
            assert not documented[var].commented, f"{var} is required: leave it uncommented"
        elif operator == ":-":
            assert documented[var].value == default, (
                f"{var}: env.example and compose.yaml disagree on the default"
            )


# --- search attributes ----------------------------------------------------------------------


def script_search_attributes() -> dict[str, str]:
    text = REGISTER_SCRIPT.read_text(encoding="utf-8")
    match = re.search(r'^SEARCH_ATTRIBUTES="\n(.*?)^"$', text, re.S | re.M)
    assert match, "SEARCH_ATTRIBUTES block not found in the script"
    pairs = [line.split("=", 1) for line in match[1].split()]
    return {name: kind for name, kind in pairs}


def test_script_registers_exactly_the_settings_search_attributes() -> None:
    assert script_search_attributes() == SEARCH_ATTRIBUTES


def test_no_other_search_attribute_names_in_infra() -> None:
    for path in text_files_under_infra():
        for name in re.findall(r"\bDunning[A-Z][A-Za-z]+\b", path.read_text(encoding="utf-8")):
            assert name in SEARCH_ATTRIBUTES, f"{path.relative_to(REPO)}: unknown {name}"


def test_script_creates_with_the_temporal_cli_and_address() -> None:
    text = REGISTER_SCRIPT.read_text(encoding="utf-8")
    assert 'temporal operator search-attribute create --namespace "$NAMESPACE"' in text
    assert '--address "$ADDRESS" --name "$name" --type "$type"' in text
    assert "temporal operator cluster health" in text, "must wait for the server"
    assert os.access(REGISTER_SCRIPT, os.X_OK)


def test_compose_setup_service_runs_the_script() -> None:
    setup = services()["temporal-setup"]
    assert setup["image"].startswith("temporalio/admin-tools:")
    assert setup["restart"] == "no"
    assert environment("temporal-setup")["TEMPORAL_ADDRESS"] == "temporal:7233"
    (mount,) = setup["volumes"]
    source, target = mount.split(":")[:2]
    assert (INFRA / source).resolve() == REGISTER_SCRIPT
    assert target in setup["entrypoint"]


def test_k8s_search_attribute_job_runs_the_script_from_the_image() -> None:
    job = k8s_object("Job", "dunning-search-attributes")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    script_in_image = container["command"][-1]
    assert script_in_image in image_paths(), f"{script_in_image} is not copied into the image"
    env = {
        e["name"]: (ref.get("configMapKeyRef") or ref["secretKeyRef"])["key"]
        for e in container["env"]
        for ref in [e["valueFrom"]]
    }
    tls = ("CERT_PATH", "KEY_PATH", "CA_PATH", "SERVER_NAME")
    assert env == {
        "TEMPORAL_ADDRESS": "DUNNING_TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE": "DUNNING_TEMPORAL_NAMESPACE",
        **{f"DUNNING_TEMPORAL_TLS_{k}": f"DUNNING_TEMPORAL_TLS_{k}" for k in tls},
        "DUNNING_TEMPORAL_API_KEY": "DUNNING_TEMPORAL_API_KEY",
    }
    # The API key is optional in the Secret: a plaintext or mTLS-only cluster needs none.
    (api_key,) = [e for e in container["env"] if e["name"] == "DUNNING_TEMPORAL_API_KEY"]
    assert api_key["valueFrom"]["secretKeyRef"]["optional"] is True


@pytest.mark.parametrize("script", [REGISTER_SCRIPT, INIT_DB_SCRIPT], ids=lambda p: p.name)
def test_shell_scripts_are_valid_posix_sh(script: Path) -> None:
    assert os.access(script, os.X_OK), f"{script} is not executable"
    assert script.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    sh = shutil.which("dash") or shutil.which("sh")
    if sh is None:
        pytest.skip("no POSIX shell to check the syntax with")
    result = subprocess.run([sh, "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --- Kubernetes -----------------------------------------------------------------------------


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["spec"]["template"]["spec"]["containers"]


def workloads() -> list[dict[str, Any]]:
    return [d for d in k8s_documents() if d["kind"] in {"Deployment", "Job"}]


def test_k8s_has_the_objects() -> None:
    found = {(d["kind"], d["metadata"]["name"]) for d in k8s_documents()}
    assert found == {
        ("Deployment", "dunning-worker"),
        ("Deployment", "dunning-api"),
        ("Service", "dunning-api"),
        ("ConfigMap", "dunning-config"),
        ("Secret", "dunning-secrets"),
        ("Job", "dunning-ledger-migrate"),
        ("Job", "dunning-search-attributes"),
        ("HorizontalPodAutoscaler", "dunning-worker"),
        ("PodDisruptionBudget", "dunning-worker"),
    }


def test_k8s_kustomization_lists_everything_but_the_secret_template() -> None:
    (kustomization,) = load_yaml(K8S / "kustomization.yaml")
    listed = set(kustomization["resources"])
    for name in listed:
        assert (K8S / name).is_file(), f"kustomization lists missing {name}"
    others = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == others - {"secret.example.yaml"}
    images = {image["name"] for image in kustomization["images"]}
    for doc in workloads():
        for container in containers(doc):
            assert container["image"] in images, f"{doc['metadata']['name']}: image name"


def test_k8s_worker_deployment() -> None:
    worker = k8s_object("Deployment", "dunning-worker")
    assert "replicas" not in worker["spec"], "the autoscaler owns the worker's replica count"
    (container,) = containers(worker)
    assert "command" not in container and "args" not in container, "runs the image's CMD"
    assert container["envFrom"] == [
        {"configMapRef": {"name": "dunning-config"}},
        {"secretRef": {"name": "dunning-secrets"}},
    ]


def test_k8s_api_deployment_and_service() -> None:
    api = k8s_object("Deployment", "dunning-api")
    (container,) = containers(api)
    assert container["command"] == ["dunning", "api", "--host", "0.0.0.0"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000}
    service = k8s_object("Service", "dunning-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in ports or port["targetPort"] in ports.values()


def test_k8s_selectors_match_their_pods() -> None:
    for doc in k8s_documents():
        if doc["kind"] == "Deployment":
            selector = doc["spec"]["selector"]["matchLabels"]
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), doc["metadata"]["name"]


def test_k8s_workloads_have_resources_and_run_as_non_root() -> None:
    uid = int(final_stage_user().split(":")[0])
    for doc in workloads():
        name = doc["metadata"]["name"]
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == uid, f"{name}: not the image's USER"
        for container in containers(doc):
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][part]), f"{name}: {part}"
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_k8s_env_comes_from_configmap_and_secret_only() -> None:
    configmap = k8s_object("ConfigMap", "dunning-config")["data"]
    secret = k8s_object("Secret", "dunning-secrets")["stringData"]
    for doc in workloads():
        for container in containers(doc):
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                assert ref["name"] in {"dunning-config", "dunning-secrets"}
            for entry in container.get("env", []):
                assert "value" not in entry, f"{entry['name']}: no inline values"
                ref = entry["valueFrom"].get("configMapKeyRef") or entry["valueFrom"].get(
                    "secretKeyRef"
                )
                keys = configmap if ref["name"] == "dunning-config" else secret
                assert ref["key"] in keys, f"{ref['name']} has no key {ref['key']}"


def test_k8s_configmap_holds_no_secret() -> None:
    data = k8s_object("ConfigMap", "dunning-config")["data"]
    assert all(isinstance(v, str) for v in data.values()), "ConfigMap values must be strings"
    assert not set(data) & (secret_env_names() | SENSITIVE_PLAIN)
    assert set(data) <= set(setting_env_names())


def test_k8s_secret_template_is_empty() -> None:
    secret = k8s_object("Secret", "dunning-secrets")
    assert "data" not in secret, "use stringData placeholders, never encoded values"
    values = secret["stringData"]
    assert all(v == "" for v in values.values()), "the Secret template must stay empty"
    assert secret_env_names() | SENSITIVE_PLAIN <= set(values)
    assert set(values) <= set(setting_env_names())


def test_k8s_migrate_job_calls_upgrade_to_head_with_settings_url() -> None:
    (container,) = containers(k8s_object("Job", "dunning-ledger-migrate"))
    command = container["command"]
    assert command[:2] == ["python", "-c"]
    code = command[2]
    compile(code, "migrate-job", "exec")
    assert "from ledger.db import upgrade_to_head" in code
    assert "upgrade_to_head(settings.ledger_url)" in code
    (compose_code,) = services()["migrate"]["command"][2:]
    assert "upgrade_to_head(Settings().ledger_url)" in compose_code


# --- Dockerfile -----------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    instructions, pending = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in dockerfile():
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def copies(stage: list[tuple[str, str]]) -> list[tuple[list[str], list[str], str]]:
    """(flags, sources, destination) of each COPY."""
    result = []
    for keyword, rest in stage:
        if keyword == "COPY":
            words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            result.append((flags, paths[:-1], paths[-1]))
    return result


def final_stage_user() -> str:
    users = [rest for keyword, rest in stages()[-1] if keyword == "USER"]
    assert users, "the final stage sets no USER"
    return users[-1]


def final_workdir() -> str:
    return [rest for keyword, rest in stages()[-1] if keyword == "WORKDIR"][-1]


def image_paths() -> set[str]:
    """Files the final stage copies from the context, as absolute paths in the image."""
    paths = set()
    for flags, sources, dest in copies(stages()[-1]):
        if any(f.startswith("--from") for f in flags):
            continue
        target = os.path.normpath(os.path.join(final_workdir(), dest))
        for source in sources:
            # "COPY a/b.sh dir/" puts b.sh into dir; "COPY a/b.sh c.sh" renames it.
            paths.add(f"{target}/{Path(source).name}" if dest.endswith("/") else target)
    return paths


def test_dockerfile_is_multistage_on_python_311_slim() -> None:
    args = {}
    for keyword, rest in dockerfile():
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            args[name] = value
    bases = [rest.split()[0] for keyword, rest in dockerfile() if keyword == "FROM"]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], base) for base in bases]
    assert len(resolved) >= 2, "multi-stage: build and runtime"
    assert set(resolved) == {"python:3.11-slim"}


def test_dockerfile_installs_the_project_in_the_build_stage() -> None:
    build, final = stages()[0], stages()[-1]
    assert any(k == "RUN" and re.search(r"pip install \.(\s|$)", r) for k, r in build)
    build_name = next(r.split()[-1] for k, r in build if k == "FROM")
    assert any(f"--from={build_name}" in flags for flags, _, _ in copies(final))


def test_dockerfile_runs_as_non_root() -> None:
    user = final_stage_user()
    assert re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", user), f"USER {user}: numeric, not root"


def test_dockerfile_cmd_runs_the_worker_and_its_file_exists() -> None:
    cmds = [rest for keyword, rest in stages()[-1] if keyword == "CMD"]
    assert cmds, "no CMD"
    command = json.loads(cmds[-1])
    assert command == ["python", "worker.py"]
    for word in command:
        if word.endswith(".py"):
            assert (REPO / word).is_file(), f"CMD runs {word}, which does not exist"
            assert f"{final_workdir()}/{word}" in image_paths(), f"{word} is not copied"
            assert 'if __name__ == "__main__":' in (REPO / word).read_text(encoding="utf-8")
    assert not any(keyword == "HEALTHCHECK" for keyword, _ in dockerfile())


def test_dockerfile_copy_sources_exist() -> None:
    for stage in stages():
        for flags, sources, _ in copies(stage):
            if any(f.startswith("--from") for f in flags):
                continue
            for source in sources:
                if any(char in source for char in "*?["):
                    assert list(REPO.glob(source)), f"COPY {source} matches nothing"
                else:
                    assert (REPO / source).exists(), f"COPY {source}: no such path"


def test_dockerfile_copies_everything_pyproject_installs() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = pyproject["tool"]["setuptools"]
    sources = [s for _, srcs, _ in copies(stages()[0]) for s in srcs]
    for pattern in setuptools["packages"]["find"]["include"]:
        package = pattern.rstrip("*").rstrip(".")
        assert package in sources, f"pyproject installs {package}: COPY it in infra/Dockerfile"
    for module in setuptools["py-modules"]:
        assert any(fnmatch.fnmatch(f"{module}.py", s) for s in sources), module
        assert (REPO / f"{module}.py").is_file(), f"py-module {module}.py does not exist"


def test_dockerignore_example_keeps_secrets_out_and_code_in() -> None:
    patterns = [
        line.strip()
        for line in (INFRA / "dockerignore.example").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for must in (".env", ".git/", ".venv/", ".dunning/"):
        assert must in patterns, f"dockerignore.example should exclude {must}"
    for stage in stages():
        for flags, sources, _ in copies(stage):
            if any(f.startswith("--from") for f in flags):
                continue
            for source in sources:
                for pattern in patterns:
                    bare = pattern.removeprefix("**/").rstrip("/")
                    hit = fnmatch.fnmatch(source, bare) or source.startswith(bare + "/")
                    assert not hit, f"dockerignore pattern {pattern} hides COPY {source}"


# --- docker compose config (only where the compose plugin exists) ---------------------------


def test_docker_compose_config_is_valid() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on this machine")
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        message = "docker CLI is here but its compose plugin is not: `docker compose` unusable"
        if os.environ.get("INFRA_REQUIRE_DOCKER_COMPOSE"):
            pytest.fail(f"{message}\n{probe.stderr}")
        pytest.skip(message)
    env = {
        **os.environ,
        "POSTGRES_PASSWORD": "compose-config-check",
        "TEMPORAL_DB_PASSWORD": "compose-config-check",
        "LEDGER_DB_PASSWORD": "compose-config-check",
    }
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
