"""Tune's sampled values -> a trial's full nested config, with plain dicts only.

Every trial's driver process resolves its config, and Ray imports whatever the resolver's pickle names
there. This module imports neither torch nor the typed configs (which import the models), so a trial's
driver does not pay torch's import (seconds of CPU, hundreds of MiB) for work that never touches a tensor.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SAMPLED = "sampled"  # the key of a Tune trial config that holds the define-by-run values (search.runtime.tuner)


def is_structural(key: str) -> bool:
    return key.startswith("_")


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"a.b": 1, "a.c": 2, "_n": 2} -> {"a": {"b": 1, "c": 2}}: structural keys are dropped."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if is_structural(key):
            continue
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; values in ``override`` win."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class TrialResolver:
    """A space's fixed values, presets and epoch budget: all a trial's config needs beyond its samples."""

    fixed: Mapping[str, Any]
    presets: Mapping[str, Mapping[str, Any]]
    epochs: int

    def __call__(self, sampled: Mapping[str, Any]) -> dict[str, Any]:
        """The full nested config of a trial: fixed values, its preset, sampled values, the epoch budget.

        ``sampled``: {dotted key: value}, or a Tune trial config holding them under ``SAMPLED``.
        """
        sampled = dict(sampled.get(SAMPLED, sampled))
        config = copy.deepcopy(dict(self.fixed))
        if "preset" in sampled:
            config = deep_merge(config, copy.deepcopy(dict(self.presets[sampled.pop("preset")])))
        config = deep_merge(config, unflatten(sampled))
        return deep_merge(config, {"train": {"epochs": self.epochs}})
