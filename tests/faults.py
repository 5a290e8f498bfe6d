"""Fault injection for the fault-tolerance tests: inactive unless ``AVSEARCH_FAULTS`` names a JSON file.

The test cluster installs it in every Ray worker process (``install``, its runtime_env's
``worker_process_setup_hook``) as one of the Train worker's ``EPOCH_HOOKS`` (``search.runtime.epoch_hooks``); the product never imports it.

The file holds a rule or a list of rules saying which trials fail, when and how often: ``{"at_epoch": 2,
"times": 1, "kind": "raise", "match": {"model.fusion.name": "late"}}`` makes every trial whose config
matches raise once, at the end of its second epoch, before reporting it (``times: -1``: on every attempt).
Other kinds: ``kill``, the worker process is killed (SIGKILL, as by the kernel or an operator);
``oom``, the worker asks for more memory than any machine has (PyTorch's allocator fails, as it does
when a model outgrows the device). Attempts are counted in marker files beside it, per trial, so a
retry in a new process sees the earlier attempts.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    rules = json.loads(Path(path).read_text())
    for fault in rules if isinstance(rules, list) else [rules]:
        if epoch == fault.get("at_epoch", 1) and all(lookup(trial_config, k) == v for k, v in fault.get("match", {}).items()):
            inject(fault, Path(f"{path}.{run_name}.attempts"), run_name, epoch)


def install() -> None:
    """Ray's worker_process_setup_hook: fault injection at the end of every epoch of this process's trials."""
    from search.runtime.epoch_hooks import EPOCH_HOOKS

    if maybe_fail not in EPOCH_HOOKS:
        EPOCH_HOOKS.append(maybe_fail)


def raise_fault(message: str) -> None:
    raise InjectedFault(message)


def kill_process(message: str) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def exhaust_memory(message: str) -> None:
    import torch

    torch.empty(1 << 50, dtype=torch.uint8)  # 1 PiB: the allocator's own out-of-memory error


KINDS = {"raise": raise_fault, "kill": kill_process, "oom": exhaust_memory}


def inject(fault: Mapping[str, Any], marker: Path, run_name: str, epoch: int) -> None:
    attempts = int(marker.read_text()) if marker.exists() else 0
    if fault.get("times", 1) != -1 and attempts >= fault.get("times", 1):
        return
    marker.write_text(str(attempts + 1))
    KINDS[fault.get("kind", "raise")](f"injected fault at epoch {epoch} (attempt {attempts + 1}) of {run_name}")
