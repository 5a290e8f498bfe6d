"""A trial's Train run (search.runtime.torch_trainer): one worker runs without a torch.distributed group, several get
the torch trainer; no Ray Data actor is started, and the placement-group cleaner polls quicker. The callbacks are Train's
private ones, so a Ray upgrade that changes them fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import dataset_managers

pytestmark = pytest.mark.ray


def record_process_group(config: dict) -> None:
    import json
    import pathlib

    import ray.train
    import torch.distributed as dist

    rank = ray.train.get_context().get_world_rank()
    group = dist.get_world_size() if dist.is_initialized() else None
    pathlib.Path(config["out"], f"rank{rank}.json").write_text(json.dumps(group))


def trial_trainer(tmp_path: Path, workers: int) -> object:
    """A trial's Train run of ``workers`` workers that records each rank's process group size in tmp_path/w<workers>."""
    import ray.train

    from search.runtime.torch_trainer import make_trainer

    out = tmp_path / f"w{workers}"
    out.mkdir()
    return make_trainer(
        record_process_group,
        {"out": str(out)},
        scaling_config=ray.train.ScalingConfig(num_workers=workers, resources_per_worker={"CPU": 1}),
        run_config=ray.train.RunConfig(name=f"lean{workers}", storage_path=str(tmp_path)),
    )


def run(tmp_path: Path, workers: int, dashboard: str) -> tuple[object, dict[int, int | None], set[str]]:
    """Runs ``trial_trainer``; returns it, each rank's process group size, and the DatasetManager actors it started."""
    before = dataset_managers(dashboard)
    trainer = trial_trainer(tmp_path, workers)
    trainer.fit()
    groups = {int(f.stem.removeprefix("rank")): json.loads(f.read_text()) for f in (tmp_path / f"w{workers}").glob("rank*.json")}
    return trainer, groups, dataset_managers(dashboard) - before


def test_one_worker_runs_without_a_process_group_or_a_dataset_manager(ray_cluster, tmp_path):
    from ray.train.v2._internal.callbacks.placement_group_callback import PlacementGroupCleanerCallback

    from search.runtime.ray_workarounds import CLEANER_CHECK_INTERVAL_S

    trainer, groups, managers = run(tmp_path, workers=1, dashboard=ray_cluster.dashboard_url)
    assert groups == {0: None}
    assert not managers
    # Train's own cleaner polls once a second, and its controller waits for the poll in flight.
    cleaners = [c for c in trainer._create_default_callbacks() if isinstance(c, PlacementGroupCleanerCallback)]
    assert [c._check_interval_s for c in cleaners] == [CLEANER_CHECK_INTERVAL_S]


def test_several_workers_get_the_lean_torch_trainer(tmp_path):
    """(Its run, two workers sharing one process group and no Ray Data actor: test_multi_worker.py.)"""
    from search.runtime.ddp_trainer import LeanTorchTrainer

    assert isinstance(trial_trainer(tmp_path, workers=2), LeanTorchTrainer)
