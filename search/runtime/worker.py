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
from search.runtime.ray_workarounds import PG_KEY, unrecorded_epochs
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
                 "session": a key of ``search.runtime.trial_session.SESSIONS``,
                 "footprint": None, or {"measure": FOOTPRINT names, "limits": {name: upper limit},
                 "latency_batch": int}: measured before the first epoch and reported with every epoch;
                 a trial over a limit reports them once, at epoch 0, with why, and is not trained}
    """
    worker_start = time.time()
    import torch

    from common.constants import METRIC_MODES
    from models.classifier import to_dict
    from search.results.pareto import INFEASIBLE, broken_limits
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
    device = session.device()
    measured = measure_footprint(trial, config.get("footprint"), device)
    broken = broken_limits(measured, config["footprint"]["limits"]) if measured else None
    if broken:
        # Every metric the searcher and scheduler expect, none measured: the searcher hears of the limit.
        session.report({"epoch": 0, INFEASIBLE: broken, **dict.fromkeys(METRIC_MODES, float("nan")), **measured})
        session.tidy()
        return
    board = TrialBoard(config["tensorboard"], flatten(to_dict(trial))) if rank == 0 and config.get("tensorboard") else None

    tags = {**measured, **startup, "node_id": node, "pid": os.getpid(), PG_KEY: placement_group}

    def report(metrics: dict[str, float], state: Any) -> None:
        for hook in EPOCH_HOOKS:
            hook(config["trial"], run_name, int(metrics["epoch"]))
        metrics = {**metrics, **tags}
        if board is not None:
            board.log(metrics)
        record(metrics, state)

    def record(metrics: dict[str, Any], state: Any) -> None:
        """Report ``metrics``, rank 0 with ``state()`` as the epoch's checkpoint (None: no checkpoint)."""
        if rank != 0 or state is None:
            session.report(metrics)
            return
        with tempfile.TemporaryDirectory() as d:
            torch.save(state(), os.path.join(d, CHECKPOINT_FILE))
            session.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(d))

    # Trained by the run before a resume (its TensorBoard run holds what its writer flushed), maybe not recorded by Tune.
    again = unrecorded_epochs(checkpoint, resume["history"] if resume else [])
    for i, row in enumerate(again, 1):
        record({**row, **tags}, (lambda: resume) if i == len(again) else None)  # the restored state is the last's
    try:
        train(trial, splits["train"], splits["val"], device=device, on_epoch=report, resume=resume)
    finally:
        if board is not None:
            board.close()
        session.tidy()


def measure_footprint(trial: Any, footprint: dict[str, Any] | None, device: Any) -> dict[str, float]:
    """The trial's FOOTPRINT measures that the search asks for ({} for none); with several workers, rank
    0's on every rank, so that all agree on whether the trial trains."""
    if not footprint or not footprint["measure"]:
        return {}
    import torch

    from serving.footprint import trial_footprint
    from training.trainer import distributed_rank

    measured = trial_footprint(trial, footprint["measure"], device, footprint["latency_batch"])
    if distributed_rank()[1] > 1:
        shared = [measured]
        torch.distributed.broadcast_object_list(shared, src=0)
        measured = shared[0]
    return measured
