"""The Ray Train worker: one trial's training loop, reporting every epoch to Tune (directly when the trial
trains in its Tune trial's process, through Ray Train when it is a distributed run: ``search.runtime.trial_session``).

Imports stay light at module level: Ray imports this in every worker process, and each trial's start-up
time is overhead the search pays once per trial.
"""
from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import ray
import ray.train

from search.results.folder import CHECKPOINT_FILE
from search.runtime.epoch_hooks import EPOCH_HOOKS
from search.runtime.ray_workarounds import PG_KEY
from search.runtime.trial_session import SESSIONS, get_data


def load_checkpoint(checkpoint: ray.train.Checkpoint) -> dict[str, Any]:
    """The trainer's checkpoint dict from a Ray checkpoint (tensors and numbers only: no unpickling)."""
    import torch

    with checkpoint.as_directory() as d:
        return torch.load(os.path.join(d, CHECKPOINT_FILE), map_location="cpu", weights_only=True)


def train_loop_per_worker(config: dict[str, Any]) -> None:
    """Train the trial ``config["trial"]`` on the splits in the object store ``config["data"]``.

    Args:
        config: {"trial": nested trial config, "data": [ObjectRef of {"train": Split, "val": Split}],
                 "threads": intra-op threads for torch, "t_driver": when the trial's driver started,
                 "tensorboard": this trial's TensorBoard run folder, or None,
                 "session": a key of ``search.runtime.trial_session.SESSIONS``}
    """
    worker_start = time.time()
    import ray.train.torch
    import torch

    from models.classifier import to_dict
    from search.results.tensorboard import TrialBoard, flatten
    from search.space.spec import parse_trial_config
    from training.trainer import train

    session = SESSIONS[config["session"]]
    # Set by every trial: a reused process keeps what the previous trial set.
    torch.set_num_threads(max(1, int(config.get("threads", 1))))
    trial = parse_trial_config(config["trial"])
    # The list keeps Tune from resolving the ref into the config it stores; the arrays are mapped
    # zero-copy from this node's object store.
    splits = get_data(config["data"][0])
    checkpoint = session.get_checkpoint()
    resume = load_checkpoint(checkpoint) if checkpoint is not None else None
    rank, run_name = session.rank_and_run()
    node = ray.get_runtime_context().get_node_id()
    placement_group = session.placement_group()
    # Wall-clock marks of the trial's start-up, reported with every epoch: where per-trial overhead goes.
    startup = {"t_driver": config.get("t_driver", worker_start), "t_worker": worker_start, "t_ready": time.time()}
    board = TrialBoard(config["tensorboard"], flatten(to_dict(trial))) if rank == 0 and config.get("tensorboard") else None

    def report(metrics: dict[str, float], state: Any) -> None:
        for hook in EPOCH_HOOKS:
            hook(config["trial"], run_name, int(metrics["epoch"]))
        metrics = {**metrics, **startup, "node_id": node, "pid": os.getpid(), PG_KEY: placement_group}
        if board is not None:
            board.log(metrics)
        if rank != 0:
            session.report(metrics)
            return
        with tempfile.TemporaryDirectory() as d:
            torch.save(state(), os.path.join(d, CHECKPOINT_FILE))
            session.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(d))

    try:
        train(trial, splits["train"], splits["val"], device=ray.train.torch.get_device(), on_epoch=report, resume=resume)
    finally:
        if board is not None:
            board.close()
        session.tidy()
