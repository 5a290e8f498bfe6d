"""Freeing what a stopped distributed trial's Ray Train run leaves behind (ray-project/ray#54305).

When Tune stops a trial (ASHA, a failure, the end of search.time_budget_s), its Train controller dies
but the placement group holding the Train workers' CPUs/GPUs can outlive it: Ray removes it only when the
job ends, or through the dashboard's State API (Ray's own placement-group cleaner). Where that cleaner
cannot run (a cluster without the dashboard; a machine running several Ray clusters, where the State API
cannot tell which is meant), the next trial waits forever for resources. This callback removes each finished
trial's placement group itself, so the search cannot hang on a leak; with the dashboard it is a no-op.
"""
from __future__ import annotations

import threading
from typing import Any

import ray
from ray import tune

PG_KEY = "train_pg_id"  # reported by every Train worker (search/worker.py); None for in-process trials


def current_placement_group_id() -> str | None:
    pg = ray.util.get_current_placement_group()
    return pg.id.hex() if pg is not None else None


def remove_placement_group(pg_hex: str) -> None:
    if not ray.is_initialized():  # the search is over: never start a new Ray instance from here
        return
    from ray._raylet import PlacementGroupID
    from ray.util.placement_group import PlacementGroup, placement_group_table
    from ray.util.placement_group import remove_placement_group as remove

    pg = PlacementGroup(PlacementGroupID(bytes.fromhex(pg_hex)))
    if placement_group_table(pg).get("state") not in (None, "REMOVED"):
        remove(pg)


def remove_job_placement_groups() -> None:
    """Remove every placement group of this job that is still held; call it only once no trial runs.

    What is left then is leaked: the Train run of a trial stopped before its first report (at the end of
    search.time_budget_s), whose controller died before handing its group to Ray's cleaner and whose id
    no report told ReleaseTrainResources. Ray would free it only when the job ends.
    """
    from ray.util.placement_group import placement_group_table

    job = ray.get_runtime_context().get_job_id()  # a placement group's id ends with its job's
    for pg_hex, info in placement_group_table().items():
        if pg_hex.endswith(job) and info.get("state") != "REMOVED":
            remove_placement_group(pg_hex)


class ReleaseTrainResources(tune.Callback):
    """Removes a finished trial's Train placement group, a few seconds after the trial ends."""

    def __init__(self, delay_s: float = 3.0) -> None:
        # The delay lets the dying Train controller go first; pulling its workers earlier makes it log
        # a spurious worker-group error.
        self.delay_s = delay_s

    def release(self, trial: Any) -> None:
        pg_hex = (trial.last_result or {}).get(PG_KEY)
        if pg_hex:
            timer = threading.Timer(self.delay_s, remove_placement_group, args=(pg_hex,))
            timer.daemon = True
            timer.start()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.release(trial)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.release(trial)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        # Trials still running when the experiment ends (search.time_budget_s) get no on_trial_complete;
        # releasing a trial twice is harmless (its group is already removed).
        for trial in trials:
            self.release(trial)
