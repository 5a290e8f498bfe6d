"""Fault injection for the fault-tolerance tests: inactive unless ``AVSEARCH_FAULTS`` names a JSON file.

The file says which trials fail, when and how often: ``{"at_epoch": 2, "times": 1, "kind": "raise",
"match": {"model.fusion.name": "late"}}`` makes every trial whose config matches raise once, at the end
of its second epoch (``times: -1``: on every attempt). Attempts are counted in marker files beside it, per
trial, so a retry in a new process sees the earlier attempts.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

ENV_VAR = "AVSEARCH_FAULTS"


class InjectedFault(RuntimeError):
    pass


def lookup(config: Mapping[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def maybe_fail(trial_config: Mapping[str, Any], run_name: str, epoch: int) -> None:
    """Raise InjectedFault (or exit the process) if the fault file selects this trial and epoch."""
    path = os.environ.get(ENV_VAR)
    if not path or not os.path.exists(path):
        return
    fault = json.loads(Path(path).read_text())
    if epoch != fault.get("at_epoch", 1):
        return
    if any(lookup(trial_config, key) != value for key, value in fault.get("match", {}).items()):
        return
    marker = Path(f"{path}.{run_name}.attempts")
    attempts = int(marker.read_text()) if marker.exists() else 0
    if fault.get("times", 1) != -1 and attempts >= fault.get("times", 1):
        return
    marker.write_text(str(attempts + 1))
    if fault.get("kind") == "exit":
        os._exit(1)  # a worker process that dies, not an exception
    raise InjectedFault(f"injected fault at epoch {epoch} (attempt {attempts + 1}) of {run_name}")
