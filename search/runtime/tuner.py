"""The Tune layer: searcher, scheduler and the per-trial driver that runs a Ray Train run (``search.runtime.torch_trainer``).

Three layers, as in Ray's Train + Tune guide: the Train worker function (``search.runtime.worker``), the per-trial
driver built here, and the ``Tuner``. A one-worker trial's Train run is in local mode: the worker function
runs in the driver's process, which holds the trial's CPUs/GPU and which Tune reuses for the next trial. A
distributed trial's driver owns no compute: its Train workers hold the trial's CPUs/GPUs
(``search.runtime.trial_session`` says more).
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import optuna
import ray
import ray.train
from ray import tune
from ray.tune.search import Searcher

from search.results.folder import TUNE_DIR, ExperimentFolder
from search.runtime.goals_search import GoalSearch
from search.runtime.ray_workarounds import ReleaseTrainResources, fit_reporting_to_tune, restoring_latest_available
from search.runtime.strategies import SCHEDULERS, SEARCHERS
from search.runtime.torch_trainer import make_trainer
from search.runtime.worker import train_loop_per_worker
from search.space.params import Param, sample
from search.space.resolve import SAMPLED
from search.space.spec import SearchSpec
from search.space.warm_start import PRESET, add_previous, enqueue_presets

# A distributed trial's driver only waits on its Train run: the Train workers hold the trial's CPUs/GPUs.
# Tune rejects an empty request, so the driver asks for a little memory and no CPU (a custom resource would
# not exist on a cluster the user started).
DRIVER_RESOURCES = {"CPU": 0, "memory": 64 * 2**20}
STUDY = "search"  # the searcher's Optuna study


def gpus_per_worker(spec: SearchSpec, cluster_gpus: float) -> float:
    """Each Train worker's GPU share: ``resources.gpus_per_worker``, or for ``auto`` (the rule README states):
    - no GPU on a cluster without GPUs;
    - one GPU per worker when a trial has several workers: a fraction could put two of its workers on one
      GPU, and NCCL refuses a process group with two ranks on one device;
    - else the share that runs ``max_concurrent_trials`` one-worker trials at once on the cluster's GPUs,
      1 / ceil(max_concurrent_trials / GPUs), at most one: small models leave a whole GPU mostly idle.
    """
    res = spec.resources
    if res.gpus_per_worker != "auto":
        return float(res.gpus_per_worker)
    if cluster_gpus <= 0:
        return 0.0
    if res.workers_per_trial > 1:
        return 1.0
    return 1.0 / math.ceil(spec.search.max_concurrent_trials / cluster_gpus)


@dataclass(frozen=True)
class DefineByRun:
    """Optuna's define-by-run space: suggests exactly the parameters that exist. A class, not a closure,
    because Tune pickles the searcher with the experiment state."""

    params: tuple[Param, ...]

    def __call__(self, trial: optuna.Trial) -> dict[str, Any]:
        # Tune's config holds every name suggested (per-block names, choice indices) plus what this
        # returns: the values as the trial config wants them, which SearchSpec.trial_config reads.
        sampled = sample(list(self.params), trial)
        preset = trial.user_attrs.get(PRESET)  # a warm-start trial: its preset's other values join its config
        return {SAMPLED: {**sampled, PRESET: preset} if preset else sampled}


def make_searcher(spec: SearchSpec, previous: Sequence[Mapping[str, Any]] = ()) -> Searcher | None:
    """Optuna over the define-by-run space with the sampler that ``searcher.name`` names
    (``search.runtime.strategies``; one or several objectives, limits: ``search.runtime.goals_search``); None
    for the presets of a preset file, whose grid (``param_space``) Tune's own generator runs, limited to
    ``search.max_concurrent_trials`` (a generator passed in would ignore the limit, with a warning).

    Args:
        previous: finished trials of an earlier experiment ({"sampled", "value", "source"}), which the
            searcher knows from the start (``search.space.warm_start``); the space's warm-start presets run first.
    """
    if spec.presets:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress view says what matters
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # A model-based sampler (GP, CMA-ES) fits its model inside the define-by-run call, which Ray times and
    # warns about as if the space function trained something.
    warnings.filterwarnings("ignore", message="Define-by-run function passed in the `space` argument took")
    strategy = SEARCHERS[spec.searcher.name](spec)
    # The study is made here, not by OptunaSearch, so that it starts with the warm start's trials.
    storage = optuna.storages.InMemoryStorage()
    directions = ["maximize" if mode == "max" else "minimize" for mode in spec.search.goals.values()]
    study = optuna.create_study(storage=storage, study_name=STUDY, directions=directions)
    add_previous(study, spec.params, previous)
    enqueue_presets(study, spec.params, spec.warm_points)
    goals = spec.search.goals
    metric, mode = (list(goals), list(goals.values())) if len(goals) > 1 else (spec.search.metric, spec.search.mode)
    return GoalSearch(
        space=DefineByRun(spec.params),
        metric=metric,
        mode=mode,
        sampler=strategy.sampler,
        points_to_evaluate=list(strategy.points) or None,
        storage=storage,
        study_name=STUDY,
        limits=spec.search.constraints,
    )


def param_space(spec: SearchSpec) -> dict[str, Any]:
    if spec.presets:
        return {
            "preset": tune.grid_search(list(spec.presets)),
            "train.seed": tune.grid_search(list(range(spec.search.num_samples))),
        }
    return {}


def make_scheduler(spec: SearchSpec) -> tune.schedulers.TrialScheduler:
    return SCHEDULERS[spec.scheduler.name](spec)


def trial_resources(spec: SearchSpec, gpus: float) -> dict[str, float]:
    """What a trial's Tune actor asks for: the worker's CPUs and GPU when it trains in-process, else
    next to nothing (its Train workers ask for theirs)."""
    if not spec.resources.in_process:
        return DRIVER_RESOURCES
    return {"CPU": spec.resources.cpus_per_worker, **({"GPU": gpus} if gpus else {})}


def tune_checkpoints(spec: SearchSpec, keep_best: bool = True) -> tune.CheckpointConfig | None:
    """Tune's checkpoint retention when trials train in-process (Tune then owns their checkpoints): the
    best epoch's by the search metric and the latest (Tune always keeps the latest); None when Train does."""
    if not spec.resources.in_process:
        return None
    if not keep_best:
        return tune.CheckpointConfig(num_to_keep=1)
    return tune.CheckpointConfig(
        num_to_keep=1, checkpoint_score_attribute=spec.search.metric, checkpoint_score_order=spec.search.mode
    )


def make_driver(
    spec: SearchSpec,
    data_ref: ray.ObjectRef,
    root: Path,
    use_gpu: bool,
    gpus: float,
    resolve: Callable[[dict], dict] | None = None,
    keep_best: bool = True,
    measure: bool = True,
) -> Callable[[dict], None]:
    """The Tune function trainable of one trial: build the trial's config and run its Ray Train run.

    Ray imports, in every trial's driver process, what the returned function's pickle names: so it holds
    plain values and torch-free callables (``search.space.resolve``, ``search.runtime.torch_trainer``, ``search.runtime.worker``
    import no torch at module level), never the ``SearchSpec``, whose typed configs import the models.

    Args:
        resolve: Tune's trial config -> the full trial config (default: the space's fixed + sampled values).
        keep_best: keep the best epoch's checkpoint by the search metric (and the latest); else the latest.
        measure: measure the footprint the space asks for and hold each trial to its limits (a retrained
            config passed them once: a noisy latency must not drop it now).
    """
    res = spec.resources
    resolve = resolve or spec.resolver()
    in_process = res.in_process
    keep = (
        ray.train.CheckpointConfig(
            num_to_keep=1, checkpoint_score_attribute=spec.search.metric, checkpoint_score_order=spec.search.mode
        )
        if keep_best
        else ray.train.CheckpointConfig(num_to_keep=1)
    )
    # Local mode (no workers): the trial's own process trains, on the GPU Ray gave it (tune.with_resources).
    scaling = ray.train.ScalingConfig(
        num_workers=0 if in_process else res.workers_per_trial,
        use_gpu=use_gpu and not in_process,
        resources_per_worker=None if in_process else {"CPU": res.cpus_per_worker, **({"GPU": gpus} if use_gpu else {})},
    )
    threads = max(1, int(res.cpus_per_worker))
    footprint = (
        None
        if not measure
        else {
            "measure": spec.search.footprint,
            "limits": dict(spec.search.constraints),
            "latency_batch": spec.search.latency_batch,
        }
    )

    def driver(sampled: dict[str, Any]) -> None:
        started = time.time()
        trial_id = tune.get_context().get_trial_id()
        config = {
            "trial": resolve(sampled),
            "data": [data_ref],
            "threads": threads,
            "t_driver": started,
            "tensorboard": str(ExperimentFolder(root).tensorboard / trial_id),
            "footprint": footprint,
            "session": "in_process" if in_process else "distributed",
        }

        def trainer_for(callbacks: list[ray.train.UserCallback]) -> Any:
            run_config = (
                ray.train.RunConfig(name=trial_id)
                if in_process
                else ray.train.RunConfig(
                    name=trial_id,
                    storage_path=str(ExperimentFolder(root).train),
                    callbacks=callbacks,
                    checkpoint_config=keep,
                    # Retries are Tune's (same run name: they resume from the Train run's last checkpoint). A
                    # Train-level retry would outlive a trial that Tune stopped: its controller would start a
                    # new worker group, whose placement group nothing frees, and a small cluster hangs.
                    failure_config=ray.train.FailureConfig(max_failures=0),
                )
            )
            return make_trainer(train_loop_per_worker, train_loop_config=config, scaling_config=scaling, run_config=run_config)

        if in_process:  # reports straight to Tune from this process
            trainer_for([]).fit()
        else:
            fit_reporting_to_tune(trainer_for)

    return driver


def make_tuner(
    driver: Callable[[dict], None],
    storage: Path,
    param_space: dict[str, Any],
    *,
    resources: dict[str, float],
    in_process: bool,
    max_failures: int,
    checkpoint_config: tune.CheckpointConfig | None = None,
    callbacks: list[tune.Callback] | None = None,
    stop: Any = None,
    restore: bool = False,
    **tune_config: Any,
) -> tune.Tuner:
    """The Tuner of a search or of a retraining (the one place either is built): trials named by their id,
    in ``storage/tune/``, each trial's driver on ``resources`` (``trial_resources``), placement groups released.

    Args:
        driver: from ``make_driver``.
        storage: the folder that holds Tune's experiment (``TUNE_DIR``) and the Train runs.
        in_process: trials train in their Tune trial's process, which Tune then reuses for the next trial.
        checkpoint_config: from ``tune_checkpoints`` (Tune keeps in-process trials' checkpoints).
        restore: continue the interrupted experiment in ``storage`` (unfinished and errored trials too).
        tune_config: the rest of ``tune.TuneConfig`` (metric, mode, searcher, scheduler, budgets).
    """
    trainable = tune.with_resources(restoring_latest_available(driver), resources)
    if restore:
        return tune.Tuner.restore(
            str(ExperimentFolder(storage).tune), trainable=trainable, resume_unfinished=True, resume_errored=True
        )
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            trial_dirname_creator=lambda trial: trial.trial_id,
            # A trial that trains in-process leaves its process, imports and data to the next one.
            reuse_actors=in_process,
            **tune_config,
        ),
        run_config=tune.RunConfig(
            name=TUNE_DIR,
            storage_path=str(storage),
            verbose=0,
            callbacks=[*(callbacks or []), ReleaseTrainResources()],
            failure_config=tune.FailureConfig(max_failures=max_failures),
            checkpoint_config=checkpoint_config,
            stop=stop,
        ),
    )


class TrainRuns(Protocol):
    """Trains configs as the search trained its trials (``trial_runs``): what retraining and cross-validation are given."""

    def __call__(self, out: Path, data_ref: ray.ObjectRef, configs: dict[str, dict[str, Any]], measure: bool = True) -> None: ...


def trial_runs(spec: SearchSpec, gpus: float) -> TrainRuns:
    """``train_runs`` with the space's resources, retries and concurrency, ``gpus`` per worker (``gpus_per_worker``)."""
    return functools.partial(train_runs, spec, use_gpu=gpus > 0, gpus=gpus)


def train_runs(
    spec: SearchSpec,
    out: Path,
    data_ref: ray.ObjectRef,
    configs: dict[str, dict[str, Any]],
    use_gpu: bool,
    gpus: float,
    measure: bool = True,
) -> None:
    """One Ray Train run per config ({run name: trial config}), on ``data_ref``'s train part, each reporting
    its scores on its val part; their final weights are kept, under ``out`` (``measure``: as ``make_driver``)."""
    driver = make_driver(
        spec, data_ref, out, use_gpu, gpus, resolve=lambda s: configs[s["run"]], keep_best=False, measure=measure
    )
    make_tuner(
        driver,
        out,
        {"run": tune.grid_search(list(configs))},
        resources=trial_resources(spec, gpus if use_gpu else 0.0),
        in_process=spec.resources.in_process,
        checkpoint_config=tune_checkpoints(spec, keep_best=False),
        max_failures=spec.search.max_failures,
        max_concurrent_trials=spec.search.max_concurrent_trials,
    ).fit()
