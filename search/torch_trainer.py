"""Ray Train's ``TorchTrainer`` without the start-up and shut-down waits that a search pays once per trial.

A Train V2 run starts five Ray actors, each its own process, and waits on two of them for nothing a search
uses (measured with ``bench/search_overhead.py``, Ray 2.60, 2 cores):
- a ``DatasetManager`` for Ray Data datasets, started after the workers and waited on: about 1.1 s per run.
  Trials read their splits from the object store, never through Train's ``datasets``, so a run without
  datasets goes without it;
- the ``PlacementGroupCleaner`` that frees a run's placement group if its controller dies (the fix for
  ray-project/ray#54305 that a search relies on) polls once a second, and the controller waits for the poll
  in flight when it shuts down: up to 1 s per run. It polls every ``CLEANER_CHECK_INTERVAL_S`` here.

Both are Train's private callbacks: `tests/search/test_torch_trainer.py` fails if a Ray upgrade renames them.
"""
from __future__ import annotations

from ray.train.torch import TorchTrainer
from ray.train.v2._internal.callbacks import DatasetsCallback
from ray.train.v2._internal.callbacks.placement_group_callback import (
    PlacementGroupCleanerCallback,
)

# The cleaner asks the State API whether the controller lives: a small HTTP request per run and interval.
CLEANER_CHECK_INTERVAL_S = 0.2


class LeanTorchTrainer(TorchTrainer):
    """A ``TorchTrainer`` with no Ray Data machinery when it has no datasets, and a quicker cleaner."""

    def _create_default_callbacks(self) -> list:
        callbacks = []
        for callback in super()._create_default_callbacks():
            if isinstance(callback, DatasetsCallback) and not self.datasets:
                continue
            if type(callback) is PlacementGroupCleanerCallback:
                callback = PlacementGroupCleanerCallback(check_interval_s=CLEANER_CHECK_INTERVAL_S)
            callbacks.append(callback)
        return callbacks
