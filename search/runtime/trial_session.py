"""Where a trial's training loop reports to, restores from and reads its data: the two ways a trial runs.

- ``in_process`` (one-worker trials, the default): the trial's Ray Train run is in local mode
  (``ScalingConfig(num_workers=0)``, Ray 2.60), so its training function runs in the Tune trial's own
  process, and Tune reuses that process for the next trial. Local mode's ``ray.train.report`` keeps what it
  is given to itself, so the loop reports to Tune (``ray.tune.report``), Tune persists the checkpoints and
  hands the latest back on a retry or a resume (``ray.tune.get_checkpoint``). The trial holds its CPUs and
  GPU itself (``tune.with_resources``); no placement group of its own is left to free.
- ``distributed`` (several workers, or ``resources.distributed: true``): a Train controller starts the
  workers; they report to Train, whose ``TuneReportCallback`` passes the metrics and checkpoint paths on.

Both keep a process's data across its trials: a reused trial process fetches the splits once.
"""

from __future__ import annotations

import gc
from typing import Any

import ray
import ray.train

from search.runtime.ray_workarounds import current_placement_group_id


class InProcess:
    """A Ray Train run in local mode inside its Tune trial: Tune gets the reports and owns the checkpoints."""

    @staticmethod
    def rank_and_run() -> tuple[int, str]:
        """(this worker's rank, the run's name: the trial id); ``ray.train.get_context`` refuses a Tune trial."""
        from ray import tune  # imported here: distributed Train workers never need Tune

        return 0, tune.get_context().get_trial_id()

    @staticmethod
    def get_checkpoint() -> Any:
        from ray import tune

        return tune.get_checkpoint()

    @staticmethod
    def report(metrics: dict[str, Any], checkpoint: Any = None) -> None:
        from ray import tune

        tune.report(metrics, checkpoint=checkpoint)

    @staticmethod
    def placement_group() -> str | None:
        return None  # the trial's resources are its Tune actor's, which Tune frees itself

    @staticmethod
    def device() -> Any:
        """The trial actor's GPU (Tune shows it only the GPU it holds) or the CPU; ``ray.train.torch``, half a
        CPU second to import in every trial process, is left to Train workers."""
        import torch

        return torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")

    @staticmethod
    def tidy() -> None:
        """What a trial leaves in a process that Tune reuses for the next one: its CUDA cache, its garbage."""
        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


class Distributed:
    """Train workers started by a Train controller: Train gets the reports and owns the checkpoints."""

    @staticmethod
    def rank_and_run() -> tuple[int, str]:
        context = ray.train.get_context()
        return context.get_world_rank(), context.get_experiment_name()

    @staticmethod
    def get_checkpoint() -> Any:
        return ray.train.get_checkpoint()

    @staticmethod
    def report(metrics: dict[str, Any], checkpoint: Any = None) -> None:
        ray.train.report(metrics, checkpoint=checkpoint)

    @staticmethod
    def placement_group() -> str | None:
        return current_placement_group_id()  # freed by search.runtime.ray_workarounds when the trial ends

    @staticmethod
    def device() -> Any:
        """This worker's GPU (by its local rank) or the CPU."""
        import ray.train.torch

        return ray.train.torch.get_device()

    @staticmethod
    def tidy() -> None:
        pass  # the worker process ends with its run


SESSIONS = {"in_process": InProcess, "distributed": Distributed}

_data: tuple[str, Any] | None = None  # (object id, value): the splits of the last ref read in this process


def get_data(ref: ray.ObjectRef) -> Any:
    """``ray.get(ref)``, once per process and ref: a reused trial process keeps the (zero-copy) splits."""
    global _data
    key = ref.hex()
    if _data is None or _data[0] != key:
        _data = None  # the old splits go before the new ones come
        _data = (key, ray.get(ref))
    return _data[1]
