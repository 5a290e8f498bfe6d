"""Every use of a Ray private API, and every workaround of a Ray behaviour, in one place (Ray 2.60).

Each section names what it works around; ``tests/search/runtime/test_ray_workarounds.py`` holds a canary per
section that fails when a Ray upgrade changes what it relies on (then revisit the section: drop it if fixed).

1. Placement groups of stopped trials (ray-project/ray#54305). When Tune stops a trial (ASHA, a failure, the
   end of search.time_budget_s), its Train controller dies but the placement group holding the Train workers'
   CPUs/GPUs can outlive it: Ray removes it only when the job ends, or through the dashboard's State API (Ray's
   own placement-group cleaner). Where that cleaner cannot run (a cluster without the dashboard; a machine
   running several Ray clusters, where the State API cannot tell which is meant), the next trial waits forever
   for resources. ``ReleaseTrainResources`` removes each finished trial's placement group itself, so the
   search cannot hang on a leak; with the dashboard it is a no-op. Uses the private ``PlacementGroupID``.

2. Train's private default callbacks (``LeanCallbacks``): a Ray Data actor a search never uses, and the
   placement-group cleaner (Ray's own fix for #54305) polling once a second. No upstream issue: the overhead
   was measured with ``bench/search_overhead.py``.
3. A resumed trial's reported epochs (``KeepTrialHistory``): Tune overwrites result.json from a staging file
   that starts empty when the trial has no Tune checkpoint, which a Ray Train trial never has.
4. Local clusters listening on 127.0.0.1 only (``loopback_only``): Ray 2.60 binds every interface; upstream
   moves its servers off 0.0.0.0 in ray-project/ray#59852. The switch is a private constant.
5. A resumed trial's checkpoint gone (``restoring_latest_available``; ray-project/ray#27790, whose fallback,
   #29099, the 2.7 storage rewrite dropped). Tune deletes a trial's older checkpoint as soon as a newer one
   comes (``num_to_keep``) and saves the experiment state after: a driver killed in between (the OOM killer,
   ``kill -9``) leaves a state that names a deleted checkpoint, and on ``--resume`` the trial fails on every
   retry ("does not exist on storage anymore"). The trial is restored from its latest checkpoint on disk
   instead. An in-process trial saves its checkpoints before the driver records their epochs, so that one may
   be epochs ahead of what Tune recorded: the trial reports again, from the checkpoint's history, the epochs
   after the named checkpoint's (``unrecorded_epochs``), or its result.json and leaderboard would lack them and
   call it stopped early. Uses the private ``_TrainingResult`` (through ``type``).
6. A Train run's last report inside a Tune trial (``fit_reporting_to_tune``; the relay ray-project/ray#55556
   added). Ray's ``TuneReportCallback`` hands each report to a queue that the trial's main thread reads only
   while Tune waits on the trial; when ``fit()`` returns before Tune asks again (a slow driver, 2 busy cores),
   Tune's end-of-function result takes the trial's one result slot first, and the main thread, relaying the
   last report, waits on that slot forever: the trial, and so the search, hangs. The trial's own thread relays
   the reports instead, every one before the function returns. No upstream issue yet.
7. A local cluster's start on a busy machine (``start_local``; ray-project/ray#65983). The raylet gives the
   dashboard agent a hard-coded 15 s to write its ports, then exits; ``ray.init`` fails 30 s later with "The
   current node timed out during startup". A 2-core machine running a search or a test beside it can take
   longer to start the agent's Python. The start (a search's local cluster, the test session's) is tried
   again, what it left behind stopped first.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

import ray
from ray import tune
from ray.air.constants import EXPR_RESULT_FILE
from ray.train import UserCallback
from ray.tune.integration.ray_train import CHECKPOINT_PATH_KEY
from ray.tune.trainable import wrap_function
from ray.util.queue import Queue

T = TypeVar("T")

# --- 1. placement groups of stopped trials (ray-project/ray#54305) ----------------------------------------

PG_KEY = "train_pg_id"  # reported by every Train worker (search/runtime/worker.py)


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


# --- 2. Train's private default callbacks ------------------------------------------------------------

# The cleaner asks the State API whether the controller lives: a small HTTP request per run and interval.
CLEANER_CHECK_INTERVAL_S = 0.2


class LeanCallbacks:
    """No Ray Data machinery when a run has no datasets, and a quicker placement-group cleaner."""

    def _create_default_callbacks(self) -> list:
        # Imported here: every Train worker imports this module (PG_KEY), and needs none of Train's internals.
        from ray.train.v2._internal.callbacks import DatasetsCallback
        from ray.train.v2._internal.callbacks.placement_group_callback import PlacementGroupCleanerCallback

        callbacks = []
        for callback in super()._create_default_callbacks():
            if isinstance(callback, DatasetsCallback) and not self.datasets:
                continue
            if type(callback) is PlacementGroupCleanerCallback:
                callback = PlacementGroupCleanerCallback(check_interval_s=CLEANER_CHECK_INTERVAL_S)
            callbacks.append(callback)
        return callbacks


# --- 3. a resumed trial's reported epochs -----------------------------------------------------------


class KeepTrialHistory(tune.Callback):
    """Copies a resumed trial's result.json into Tune's staging folder before Tune's logger opens it.

    Must come before Tune's own loggers, which Tune appends after the callbacks it is given.
    """

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        staged, kept = Path(trial.local_path, EXPR_RESULT_FILE), Path(trial.path, EXPR_RESULT_FILE)
        if kept.is_file() and not staged.exists():
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kept, staged)


# --- 4. local clusters on 127.0.0.1 only (ray-project/ray#59852) -----------------------------------

# Ray's switch for "clusters may not span machines" (its default on macOS and Windows): the node's IP is
# then 127.0.0.1, and Ray 2.60 binds its GCS, raylets and workers there instead of to every interface.
SINGLE_MACHINE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextmanager
def loopback_only() -> Iterator[None]:
    """Ray nodes started inside listen on 127.0.0.1 only: for clusters whose nodes are all on this machine.

    Without it Ray 2.60 listens on every interface (GCS, raylets, workers on ``::``, the dashboard agent on
    0.0.0.0), so a laptop's search is open to its network, guarded only by the token. The process's own
    copy of the switch is read when Ray picks a node IP; the environment carries it to Ray's processes.
    """
    from ray._private import ray_constants

    saved_env, saved = os.environ.get(SINGLE_MACHINE_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[SINGLE_MACHINE_ENV], ray_constants.ENABLE_RAY_CLUSTER = "0", False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved
        if saved_env is None:
            os.environ.pop(SINGLE_MACHINE_ENV, None)
        else:
            os.environ[SINGLE_MACHINE_ENV] = saved_env


# --- 5. a resumed trial's checkpoint deleted after the last saved state (ray-project/ray#27790) ------------


RECORDED_EPOCH = "avsearch_recorded_epoch"  # on a checkpoint latest_available substituted: the named one's epoch


def restoring_latest_available(driver: Callable[[dict], None]) -> type[tune.Trainable]:
    """``driver`` as Tune's function trainable, restored from the latest checkpoint on disk of its trial when
    the one the experiment state names is gone."""
    base = wrap_function(driver)

    class LatestAvailable(base):
        def restore(self, checkpoint_path: Any) -> Any:
            return super().restore(latest_available(checkpoint_path))

    LatestAvailable.__name__ = LatestAvailable.__qualname__ = base.__name__  # Tune names the experiment's trials by it
    return LatestAvailable


def latest_available(result: Any) -> Any:
    """Tune's checkpoint result for a restore, its checkpoint replaced by the trial's latest one on disk when
    it no longer exists (in-process trials' checkpoints are folders in the trial's, on a local or shared path)."""
    checkpoint = getattr(result, "checkpoint", None)
    if checkpoint is None or Path(checkpoint.path).is_dir():
        return result
    kept = sorted(p for p in Path(checkpoint.path).parent.glob("checkpoint_*") if p.is_dir())
    if not kept:
        return result
    latest = tune.Checkpoint.from_directory(str(kept[-1]))
    # Tune hands this very object to the trial (tune.get_checkpoint()): the mark reaches unrecorded_epochs.
    setattr(latest, RECORDED_EPOCH, int(result.metrics.get("epoch", 0)))
    return type(result)(checkpoint=latest, metrics=result.metrics)


def unrecorded_epochs(checkpoint: Any, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The epochs of a restored trial's ``history`` that Tune may not have recorded: those after the named
    checkpoint's epoch when ``latest_available`` restored the trial from a later one; none otherwise."""
    recorded = getattr(checkpoint, RECORDED_EPOCH, None)
    return [] if recorded is None else [row for row in history if row["epoch"] > recorded]


# --- 6. a Train run's last report inside a Tune trial (ray-project/ray#55556) -------------------------------

# How long the relay waits on the queue before it looks again whether the Train run has ended.
RELAY_POLL_S = 0.2


class QueueReports(UserCallback):
    """Each Train report's metrics (rank 0's, as Ray's ``TuneReportCallback``), with the path of its checkpoint,
    already in storage, onto ``queue``; waits while the queue is full."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
        self.queue.put({**metrics[0], **({CHECKPOINT_PATH_KEY: checkpoint.path} if checkpoint else {})})


def fit_reporting_to_tune(trainer_for: Callable[[list[UserCallback]], Any]) -> None:
    """Run ``trainer_for(callbacks).fit()`` inside a Tune function trainable, every report of the Train run
    reported to Tune, in order, before this returns; raises what ``fit()`` raised, after the reports."""
    queue = Queue(1, actor_options={"num_cpus": 0})
    trainer = trainer_for([QueueReports(queue)])
    failure: list[BaseException] = []

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as e:  # handed to the trial's thread, which raises it after the last report
            failure.append(e)

    # A daemon: when Tune stops the trial, its process ends without waiting for the Train run.
    fitting = threading.Thread(target=fit, name="train-fit", daemon=True)
    fitting.start()
    try:
        while True:
            ended = not fitting.is_alive()  # before the get: whatever the run reported is then in the queue
            try:
                metrics = queue.get(timeout=RELAY_POLL_S)
            except Empty:
                if ended:
                    break
                continue
            tune.report(metrics)
    finally:
        queue.shutdown(force=True)  # nothing left to read
    if failure:
        raise failure[0]


# --- 7. a local cluster's start on a busy machine (ray-project/ray#65983) -----------------------------------

START_ATTEMPTS = 3
START_TIMED_OUT = "The current node timed out during startup"  # ray._private.node.Node's message


def start_local(start: Callable[[], T]) -> T:
    """``start()``, which starts a node on this machine (``ray.init(address="local")``, a test's
    ``ray.cluster_utils.Cluster``), tried again when the node timed out during its start, after the processes
    the failed start left behind (its GCS, dashboard, agents) are killed."""
    import psutil

    me = psutil.Process()
    for _ in range(START_ATTEMPTS - 1):
        before = {p.pid for p in me.children(recursive=True)}
        try:
            return start()
        except Exception as e:
            if START_TIMED_OUT not in str(e):
                raise
        left = [p for p in me.children(recursive=True) if p.pid not in before]  # the failed start's
        for p in left:
            p.kill()
        psutil.wait_procs(left, timeout=10)
    return start()
