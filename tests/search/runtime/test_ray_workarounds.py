"""Canaries of search.runtime.ray_workarounds: each fails when a Ray upgrade changes what a workaround relies
on (a private name, a signature, a file name). Then revisit the workaround: drop it if Ray fixed the issue."""

from __future__ import annotations

import inspect
from pathlib import Path

import ray
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
