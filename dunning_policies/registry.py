"""The policies in ``dunning_policies/policies/``: one module each, exporting ``POLICY``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from dunning_policies import policies as _policies_package
from dunning_policies.language import Policy


class UnknownPolicy(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown policy {name!r}; known policies: {', '.join(known)}")
        self.name = name


@cache
def all_policies() -> dict[str, Policy]:
    found: dict[str, Policy] = {}
    for module_info in pkgutil.iter_modules(_policies_package.__path__):
        module = importlib.import_module(f"{_policies_package.__name__}.{module_info.name}")
        policy = getattr(module, "POLICY", None)
        if not isinstance(policy, Policy):
            raise TypeError(f"{module.__name__} must define POLICY = Policy(...)")
        if policy.name in found:
            raise ValueError(f"two modules define the policy {policy.name!r}")
        found[policy.name] = policy
    return dict(sorted(found.items()))


def get_policy(name: str) -> Policy:
    policies = all_policies()
    if name not in policies:
        raise UnknownPolicy(name, list(policies))
    return policies[name]
