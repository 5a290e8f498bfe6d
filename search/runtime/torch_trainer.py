"""Ray Train runs without the start-up and shut-down waits that a search pays once per trial.

A Train V2 run starts five Ray actors, each its own process, and waits on parts of them that a search does
not use (measured with ``bench/search_overhead.py``, Ray 2.60, 2 cores):
- a ``DatasetManager`` for Ray Data datasets, started after the workers and waited on: about 1.1 s per run.
  Trials read their splits from the object store, never through Train's ``datasets``, so a run without
  datasets goes without it;
- the ``PlacementGroupCleaner`` that frees a run's placement group if its controller dies (the fix for
  ray-project/ray#54305 that a search relies on) polls once a second, and the controller waits for the poll
  in flight when it shuts down: up to 1 s per run. It polls every ``CLEANER_CHECK_INTERVAL_S`` here;
- ``TorchTrainer``'s backend sets up a torch.distributed process group, and makes the controller import
  torch, even for one worker, which has no gradients to share. A one-worker trial runs as a plain
  data-parallel run instead; several workers get the ``TorchTrainer`` (DistributedDataParallel needs it),
  from ``search.runtime.ddp_trainer``. Importing it imports torch, and this module, which every trial's driver
  process imports, does not.

The first two are Train's private callbacks: `tests/search/runtime/test_torch_trainer.py` fails if a Ray upgrade
renames them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ray.train
from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

from search.runtime.ray_workarounds import LeanCallbacks


class LeanSingleWorkerTrainer(LeanCallbacks, DataParallelTrainer):
    """One Train worker with no process group, with lean callbacks."""


def make_trainer(
    train_loop: Callable[[dict[str, Any]], None],
    train_loop_config: dict[str, Any],
    scaling_config: ray.train.ScalingConfig,
    run_config: ray.train.RunConfig,
) -> DataParallelTrainer:
    """The Train run of one trial: a ``TorchTrainer`` when several workers share the trial, else one worker."""
    cls: type[DataParallelTrainer] = LeanSingleWorkerTrainer
    if scaling_config.num_workers > 1:
        from search.runtime.ddp_trainer import LeanTorchTrainer

        cls = LeanTorchTrainer
    return cls(train_loop, train_loop_config=train_loop_config, scaling_config=scaling_config, run_config=run_config)
