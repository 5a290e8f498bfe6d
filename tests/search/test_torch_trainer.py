"""LeanTorchTrainer: a Train run without datasets starts no Ray Data actor, and its placement-group cleaner
polls quicker. Both lean on Train's private callbacks, so a Ray upgrade that changes them fails here."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.ray


def loop() -> None:
    import ray.train

    ray.train.report({"done": 1})


def test_a_run_without_datasets_starts_no_dataset_manager_and_its_cleaner_polls_quicker(ray_cluster, tmp_path):
    import ray.train
    from ray.train.v2._internal.callbacks.placement_group_callback import (
        PlacementGroupCleanerCallback,
    )
    from ray.util.state import list_actors

    from search.torch_trainer import CLEANER_CHECK_INTERVAL_S, LeanTorchTrainer

    def actors(cls: str) -> set[str]:
        return {a.actor_id for a in list_actors(filters=[("class_name", "=", cls)], limit=10_000)}

    managers, controllers = actors("DatasetManager"), actors("TrainController")
    trainer = LeanTorchTrainer(
        loop,
        scaling_config=ray.train.ScalingConfig(num_workers=1, resources_per_worker={"CPU": 1}),
        run_config=ray.train.RunConfig(name="lean", storage_path=str(tmp_path)),
    )
    cleaners = [c for c in trainer._create_default_callbacks() if isinstance(c, PlacementGroupCleanerCallback)]
    trainer.fit()

    assert actors("TrainController") - controllers, "the run must have started a Train controller"
    assert actors("DatasetManager") == managers
    # Train's own cleaner polls once a second, and its controller waits for the poll in flight.
    assert [c._check_interval_s for c in cleaners] == [CLEANER_CHECK_INTERVAL_S]
