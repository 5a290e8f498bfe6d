"""Canaries of search.runtime.ray_workarounds: each fails when a Ray upgrade changes what a workaround relies
on (a private name, a signature, a file name). Then revisit the workaround: drop it if Ray fixed the issue."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray
from ray import tune
from ray.air.constants import EXPR_RESULT_FILE

from search.runtime import ray_workarounds


def test_ray_is_the_version_the_workarounds_were_written_for():
    assert ray.__version__.startswith("2.60."), "new Ray: re-check every section of search/runtime/ray_workarounds.py"


def test_placement_group_ids_can_be_rebuilt_from_their_hex():  # 1. ray-project/ray#54305
    from ray._raylet import PlacementGroupID
    from ray.util.placement_group import PlacementGroup, placement_group_table

    pg = PlacementGroup(PlacementGroupID(bytes.fromhex("ab" * 18)))
    assert pg.id.hex() == "ab" * 18
    assert list(inspect.signature(placement_group_table).parameters) == ["placement_group"]


def test_train_has_the_default_callbacks_lean_callbacks_replace():  # 2.
    from ray.train.v2._internal.callbacks import DatasetsCallback  # noqa: F401
    from ray.train.v2._internal.callbacks.placement_group_callback import PlacementGroupCleanerCallback
    from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

    assert callable(DataParallelTrainer._create_default_callbacks)
    assert "check_interval_s" in inspect.signature(PlacementGroupCleanerCallback).parameters


def test_tune_stages_result_json_where_keep_trial_history_seeds_it():  # 3.
    from ray.tune.experiment import Trial

    assert EXPR_RESULT_FILE == "result.json"
    assert isinstance(Trial.local_path, property) and isinstance(Trial.path, property)
    assert "on_trial_start" in vars(ray_workarounds.KeepTrialHistory)


def test_the_single_machine_switch_is_still_read_from_the_environment():  # 4. ray-project/ray#59852
    from ray._private import ray_constants

    assert isinstance(ray_constants.ENABLE_RAY_CLUSTER, bool)
    assert ray_workarounds.SINGLE_MACHINE_ENV in Path(ray_constants.__file__).read_text()


def test_ray_still_reads_every_setting_a_searchs_workers_get():  # search.runtime.cluster.WORKER_ENV
    from search.runtime.cluster import WORKER_ENV

    package = Path(ray.__file__).parent
    sources = "".join(p.read_text(errors="ignore") for d in ("train", "tune") for p in (package / d).rglob("*.py"))
    assert [name for name in WORKER_ENV if name not in sources] == []


def trial_storage(tmp_path: Path, trial: str) -> object:
    """Where a trainable driven by hand keeps trial ``trial``: tmp_path/tune/<trial>."""
    from ray.train._internal.storage import StorageContext

    return StorageContext(storage_path=str(tmp_path), experiment_dir_name="tune", trial_dir_name=trial)


@pytest.mark.ray
def test_a_trial_whose_named_checkpoint_is_gone_is_restored_from_its_latest_one(ray_cluster, tmp_path):  # 5. #27790
    from ray.train._internal.session import _TrainingResult
    from ray.tune.trainable import wrap_function

    def driver(config: dict) -> None:
        checkpoint = tune.get_checkpoint()
        history = [{"epoch": epoch} for epoch in (1, 2, 3)]  # as the restored checkpoint holds them
        tune.report({"restored_from": checkpoint.path, "again": ray_workarounds.unrecorded_epochs(checkpoint, history)})

    def trainable(cls: type) -> tune.Trainable:
        return cls(config={}, storage=trial_storage(tmp_path, "t1"))

    trial = tmp_path / "tune" / "t1"
    (trial / "checkpoint_000002").mkdir(parents=True)  # the newer checkpoint, saved after the state's last save
    # the state's checkpoint, saved with epoch 1, deleted when a later one came
    named = _TrainingResult(checkpoint=tune.Checkpoint.from_directory(str(trial / "checkpoint_000001")), metrics={"epoch": 1})
    plain = trainable(wrap_function(driver))
    with pytest.raises(ValueError, match="does not exist on storage anymore"):  # Ray alone: the trial cannot resume
        plain.restore(named)
    plain.stop()
    restored = trainable(ray_workarounds.restoring_latest_available(driver))
    restored.restore(named)
    result = restored.train()
    assert result["restored_from"] == str(trial / "checkpoint_000002")
    assert result["again"] == [{"epoch": 2}, {"epoch": 3}]  # Tune recorded epoch 1 at most: the trial reports the rest
    restored.stop()
    # the named checkpoint there: restored from it, every epoch of its history recorded already
    present = trainable(ray_workarounds.restoring_latest_available(driver))
    present.restore(
        _TrainingResult(checkpoint=tune.Checkpoint.from_directory(str(trial / "checkpoint_000002")), metrics={"epoch": 3})
    )
    assert present.train()["again"] == []
    present.stop()


class TwoReports:
    """A Train run's stand-in that reports epochs 1 and 2 through its callbacks and ends at once."""

    def __init__(self, callbacks: list) -> None:
        self.callbacks = callbacks

    def fit(self) -> None:
        for epoch in (1, 2):
            for callback in self.callbacks:
                callback.after_report(None, [{"epoch": epoch}], None)


def train_after_a_slow_driver(trainable: tune.Trainable) -> tuple[dict, threading.Thread, list[dict]]:
    """Epoch 1 through ``trainable.train()``, then the next ``train()`` a second later, as a busy Tune driver
    calls it: the run has ended by then, its last report still on the way. That call runs in a thread, given 10 s."""
    first = trainable.train()
    time.sleep(1)
    results: list[dict] = []
    second = threading.Thread(target=lambda: results.append(trainable.train()), daemon=True)
    second.start()
    second.join(timeout=10)
    return first, second, results


@pytest.mark.ray
def test_a_train_runs_last_report_is_lost_by_ray_and_relayed_by_the_workaround(ray_cluster, tmp_path):  # 6. #55556
    from ray.train._internal.session import get_session
    from ray.tune.integration.ray_train import TuneReportCallback
    from ray.tune.result import RESULT_DUPLICATE
    from ray.tune.trainable import wrap_function

    def trainable(driver) -> tune.Trainable:
        return wrap_function(driver)(config={}, storage=trial_storage(tmp_path, driver.__name__))

    def ray_relay(config: dict) -> None:  # what Ray's docs show: the Train run reports through TuneReportCallback
        TwoReports([TuneReportCallback()]).fit()

    plain = trainable(ray_relay)
    first, second, results = train_after_a_slow_driver(plain)
    assert first["epoch"] == 1
    # Ray 2.60: the trial's main thread waits forever to hand on epoch 2. When this fails, Ray fixed it: drop section 6.
    assert second.is_alive() and results == []
    get_session().result_queue.get()  # unblocks it (Tune's end-of-function result, taken out of the way)
    second.join(timeout=10)
    plain.stop()

    def relayed(config: dict) -> None:
        ray_workarounds.fit_reporting_to_tune(TwoReports)

    fixed = trainable(relayed)
    first, second, results = train_after_a_slow_driver(fixed)
    assert not second.is_alive()
    assert [first["epoch"], results[0]["epoch"]] == [1, 2]
    assert RESULT_DUPLICATE in fixed.train()  # and then the function's end, as Tune expects it
    fixed.stop()


def test_a_local_cluster_whose_start_timed_out_is_started_again_with_nothing_left_of_it():  # 7. #65983
    from ray._private.node import Node

    # Ray's message for the raylet that did not come up, which start_local recognises
    assert ray_workarounds.START_TIMED_OUT in inspect.getsource(Node.__init__)
    calls, started = [], []

    def start():  # a cluster start's stand-in: the first leaves a process behind and times out
        calls.append(len(calls))
        if len(calls) == 1:
            started.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
            raise Exception(f"{ray_workarounds.START_TIMED_OUT}. This could happen because ...")
        return "connected"

    assert ray_workarounds.start_local(start) == "connected"
    assert len(calls) == 2
    assert started[0].wait(timeout=10) is not None  # killed before the second start

    def refused():
        calls.append(len(calls))
        raise ValueError("another failure")

    calls.clear()
    with pytest.raises(ValueError, match="another failure"):
        ray_workarounds.start_local(refused)
    assert len(calls) == 1  # only a timed-out start is tried again

    def never():
        calls.append(len(calls))
        raise Exception(ray_workarounds.START_TIMED_OUT)

    calls.clear()
    with pytest.raises(Exception, match=ray_workarounds.START_TIMED_OUT):
        ray_workarounds.start_local(never)
    assert len(calls) == ray_workarounds.START_ATTEMPTS  # then the error goes on


@pytest.mark.ray
def test_a_trial_restored_ahead_of_what_tune_recorded_reports_those_epochs_and_trains_none_again(ray_cluster, tmp_path):
    """5., through the trial's real training loop: its run before the SIGKILL trained and saved epochs 1 and 2,
    Tune recorded epoch 1 and its checkpoint, since deleted."""
    import torch
    from ray.train._internal.session import _TrainingResult
    from ray.tune.result import RESULT_DUPLICATE

    from data_utils import make_demo_dataset, train_val_split
    from search.results.folder import CHECKPOINT_FILE
    from search.runtime.worker import train_loop_per_worker
    from search.space.spec import parse_trial_config
    from tests.helpers import TINY_MODEL
    from training.trainer import train

    trial_config = {"model": TINY_MODEL, "train": {"epochs": 2, "batch_size": 256}}
    train_split, val_split = train_val_split(make_demo_dataset(0).train, 0.2, 0)
    trial = tmp_path / "tune" / "t1"
    saved = []

    def save(metrics: dict, state) -> None:
        saved.append(metrics)
        (trial / f"checkpoint_00000{metrics['epoch'] - 1}").mkdir(parents=True)
        torch.save(state(), trial / f"checkpoint_00000{metrics['epoch'] - 1}" / CHECKPOINT_FILE)

    train(parse_trial_config(trial_config), train_split, val_split, on_epoch=save)
    shutil.rmtree(trial / "checkpoint_000000")  # deleted once epoch 2's came, after the state's last save
    config = {
        "trial": trial_config,
        "data": [ray.put({"train": train_split, "val": val_split})],
        "session": "in_process",
        "tensorboard": None,
        "footprint": None,
    }
    trainable = ray_workarounds.restoring_latest_available(train_loop_per_worker)(
        config=config, storage=trial_storage(tmp_path, "t1")
    )
    named = _TrainingResult(checkpoint=tune.Checkpoint.from_directory(str(trial / "checkpoint_000000")), metrics=saved[0])
    try:
        trainable.restore(named)
        result = trainable.train()
        assert result["epoch"] == 2 and result["val_f1"] == saved[1]["val_f1"]  # epoch 2 as it was trained, not again
        assert result["should_checkpoint"]  # with the restored state as its checkpoint
        assert RESULT_DUPLICATE in trainable.train()  # then the function's end: nothing left to train
    finally:
        trainable.stop()
