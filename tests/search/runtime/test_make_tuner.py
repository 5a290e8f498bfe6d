"""The one place a Tuner is built (search and retraining alike): trials named by id in storage/tune/, their
placement groups released, the caller's callbacks and budgets kept. Builds it only: no Ray is started."""

from __future__ import annotations

import ray
from ray import tune

from search.runtime.ray_workarounds import KeepTrialHistory, ReleaseTrainResources
from search.runtime.tuner import make_tuner


def driver(config: dict) -> None:
    pass


def test_a_tuner_stores_its_trials_under_tune_and_releases_their_placement_groups(tmp_path):
    connected = ray.is_initialized()  # the suite's session cluster may be up already
    tuner = make_tuner(
        driver,
        tmp_path,
        {"run": tune.grid_search(["a", "b"])},
        resources={"CPU": 0, "memory": 1 << 26},
        in_process=False,
        max_failures=2,
        max_concurrent_trials=1,
    )
    run, cfg = tuner._local_tuner._run_config, tuner._local_tuner._tune_config
    assert (run.name, run.storage_path, run.failure_config.max_failures) == ("tune", str(tmp_path), 2)
    assert [type(c) for c in run.callbacks] == [ReleaseTrainResources]
    assert cfg.max_concurrent_trials == 1 and cfg.trial_dirname_creator(type("T", (), {"trial_id": "t1"})()) == "t1"
    assert not cfg.reuse_actors  # distributed trials' drivers are not reused
    assert ray.is_initialized() == connected  # building a Tuner starts no Ray


def test_a_search_adds_its_callbacks_and_tune_settings(tmp_path):
    history = KeepTrialHistory()
    keep = tune.CheckpointConfig(num_to_keep=1)
    tuner = make_tuner(
        driver,
        tmp_path,
        {},
        resources={"CPU": 1},
        in_process=True,
        checkpoint_config=keep,
        max_failures=0,
        callbacks=[history],
        metric="val_f1",
        mode="max",
        num_samples=3,
    )
    run, cfg = tuner._local_tuner._run_config, tuner._local_tuner._tune_config
    assert cfg.reuse_actors and run.checkpoint_config is keep  # in-process trials: Tune reuses them and keeps their checkpoints
    assert run.callbacks[0] is history and isinstance(run.callbacks[-1], ReleaseTrainResources)
    assert (cfg.metric, cfg.mode, cfg.num_samples) == ("val_f1", "max", 3)
