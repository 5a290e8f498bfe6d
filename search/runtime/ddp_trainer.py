"""The Train run of a trial with several workers: a ``TorchTrainer`` (one torch.distributed group across
them, for DistributedDataParallel) with lean callbacks (``search.runtime.ray_workarounds``). A module of its own
because importing ``ray.train.torch`` imports torch, which one-worker trials' drivers never need."""

from __future__ import annotations

from ray.train.torch import TorchTrainer

from search.runtime.ray_workarounds import LeanCallbacks


class LeanTorchTrainer(LeanCallbacks, TorchTrainer):
    """A ``TorchTrainer`` with lean callbacks."""
