"""Readers of the deployment files under infra/ for the infra tests (no Docker, no PyYAML)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from config.settings import Settings

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
COMPOSE = INFRA / "compose.yaml"
DOCKERFILE = INFRA / "Dockerfile"
ENV_EXAMPLE = INFRA / "env.example"
K8S = INFRA / "k8s"
REGISTER_SCRIPT = INFRA / "temporal" / "register-search-attributes.sh"
INIT_DB_SCRIPT = INFRA / "postgres" / "init-databases.sh"

ENV_PREFIX: str = Settings.model_config.get("env_prefix") or ""
DUNNING_NAME = re.compile(r"\bDUNNING_[A-Z0-9_]*[A-Z0-9]\b")


def yaml_files() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*") if p.suffix in {".yaml", ".yml"})


@cache
def load_yaml(path: Path) -> list[Any]:
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def compose() -> dict[str, Any]:
    (document,) = load_yaml(COMPOSE)
    return document


def k8s_documents() -> list[dict[str, Any]]:
    """Every Kubernetes object in infra/k8s (kustomization.yaml is not one)."""
    paths = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    return [doc for path in paths for doc in load_yaml(path) if doc]


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    for doc in k8s_documents():
        if doc.get("kind") == kind and doc.get("metadata", {}).get("name") == name:
            return doc
    raise AssertionError(f"no {kind} named {name} in infra/k8s")


def setting_env_names() -> dict[str, str]:
    """``DUNNING_X`` -> field name, for every field of Settings."""
    names = {}
    for field_name, field in Settings.model_fields.items():
        assert field.alias is None and field.validation_alias is None, field_name
        names[f"{ENV_PREFIX}{field_name}".upper()] = field_name
    return names


def secret_env_names() -> set[str]:
    """Settings typed SecretStr: their values must never be in the repository."""
    return {
        f"{ENV_PREFIX}{name}".upper()
        for name, field in Settings.model_fields.items()
        if field.annotation is SecretStr
    }


# DUNNING_DATABASE_URL is a plain str but carries the ledger password.
SENSITIVE_PLAIN = {f"{ENV_PREFIX}DATABASE_URL".upper()}


@dataclass(frozen=True)
class EnvLine:
    number: int
    name: str
    value: str
    commented: bool


_ENV_ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example_lines() -> list[EnvLine]:
    found = []
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        match = _ENV_ASSIGNMENT.match(line.strip())
        if match:
            found.append(EnvLine(number, match[2], match[3], match[1] is not None))
    return found


def text_files_under_infra() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*") if p.is_file() and p.name != ".env")
