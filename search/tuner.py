"""The Tune layer: searcher, scheduler and the per-trial driver that runs a Ray Train run (``search.torch_trainer``).

Three layers, as in Ray's Train + Tune guide: the Train worker function (``search.worker``), the per-trial
driver built here (it owns no compute: its Train workers hold the trial's CPUs/GPUs), and the ``Tuner``.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import ray
import ray.train
from ray import tune
from ray.tune.integration.ray_train import TuneReportCallback
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search import BasicVariantGenerator, Searcher

from search.goals_search import GoalSearch
from search.moasha import MultiObjectiveASHA
from search.params import Param, sample
from search.resolve import SAMPLED
from search.spec import SearchSpec
from search.torch_trainer import make_trainer
from search.worker import train_loop_per_worker

TRAIN_DIR = "train"  # one Ray Train run per trial, named by its trial id (stable across restores)
TENSORBOARD_DIR = "tensorboard"  # one TensorBoard run per trial, by trial id
# A trial's driver only waits on its Train run: the Train workers hold the trial's CPUs/GPUs. Tune rejects
# an empty request, so the driver asks for a little memory and no CPU (a custom resource would not exist
# on a cluster the user started).
DRIVER_RESOURCES = {"CPU": 0, "memory": 64 * 2**20}


def gpus_per_worker(spec: SearchSpec, cluster_gpus: float) -> float:
    if spec.resources.gpus_per_worker == "auto":
        return 0.25 if cluster_gpus > 0 else 0.0
    return float(spec.resources.gpus_per_worker)


@dataclass(frozen=True)
class DefineByRun:
    """Optuna's define-by-run space: suggests exactly the parameters that exist. A class, not a closure,
    because Tune pickles the searcher with the experiment state."""

    params: tuple[Param, ...]

    def __call__(self, trial: optuna.Trial) -> dict[str, Any]:
        # Tune's config holds every name suggested (per-block names, choice indices) plus what this
        # returns: the values as the trial config wants them, which SearchSpec.trial_config reads.
        return {SAMPLED: sample(list(self.params), trial)}


def make_searcher(spec: SearchSpec) -> Searcher:
    """Optuna (TPE, NSGA-II or random; one or several objectives, limits: search.goals_search) over the
    define-by-run space, or a grid over the presets of a preset file."""
    if spec.presets:
        return BasicVariantGenerator(max_concurrent=spec.search.max_concurrent_trials)
    s = spec.searcher
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress view says what matters
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if s.name == "random":
        sampler: optuna.samplers.BaseSampler = optuna.samplers.RandomSampler(seed=s.seed)
    elif s.name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(population_size=s.population_size, seed=s.seed)
    else:
        # constant_liar: trials in flight count as pessimistic results, so concurrent proposals spread out.
        sampler = optuna.samplers.TPESampler(
            multivariate=s.multivariate, group=s.multivariate, constant_liar=True,
            n_startup_trials=s.n_startup_trials, seed=s.seed,
        )
    goals = spec.search.goals
    metric, mode = (list(goals), list(goals.values())) if len(goals) > 1 else (spec.search.metric, spec.search.mode)
    return GoalSearch(space=DefineByRun(spec.params), metric=metric, mode=mode, sampler=sampler, limits=spec.search.constraints)


def param_space(spec: SearchSpec) -> dict[str, Any]:
    if spec.presets:
        return {"preset": tune.grid_search(list(spec.presets)), "train.seed": tune.grid_search(list(range(spec.search.num_samples)))}
    return {}


def make_scheduler(spec: SearchSpec) -> tune.schedulers.TrialScheduler:
    sc = spec.scheduler
    if sc.name == "none":
        return FIFOScheduler()
    if len(spec.search.goals) > 1:
        return MultiObjectiveASHA(spec.search.goals, "epoch", sc.max_t, sc.grace_period, sc.reduction_factor)
    return ASHAScheduler(
        # Epochs done, not Tune's iteration count: a trial retried or restored resumes from its checkpoint,
        # and Tune's count starts again at 1.
        time_attr="epoch", max_t=sc.max_t, grace_period=sc.grace_period, reduction_factor=sc.reduction_factor,
    )


def make_driver(
    spec: SearchSpec, data_ref: ray.ObjectRef, root: Path, use_gpu: bool, gpus: float,
    resolve: Callable[[dict], dict] | None = None, keep_best: bool = True, measure: bool = True,
) -> Callable[[dict], None]:
    """The Tune function trainable of one trial: build the trial's config and run its Ray Train run.

    Ray imports, in every trial's driver process, what the returned function's pickle names: so it holds
    plain values and torch-free callables (``search.resolve``, ``search.torch_trainer``, ``search.worker``
    import no torch at module level), never the ``SearchSpec``, whose typed configs import the models.

    Args:
        resolve: Tune's trial config -> the full trial config (default: the space's fixed + sampled values).
        keep_best: keep the best epoch's checkpoint by the search metric (and the latest); else the latest.
        measure: measure the footprint the space asks for and hold each trial to its limits (a retrained
            config passed them once: a noisy latency must not drop it now).
    """
    res = spec.resources
    resolve = resolve or spec.resolver()
    keep = (
        ray.train.CheckpointConfig(num_to_keep=1, checkpoint_score_attribute=spec.search.metric, checkpoint_score_order=spec.search.mode)
        if keep_best else ray.train.CheckpointConfig(num_to_keep=1)
    )
    scaling = ray.train.ScalingConfig(
        num_workers=res.workers_per_trial, use_gpu=use_gpu,
        resources_per_worker={"CPU": res.cpus_per_worker, **({"GPU": gpus} if use_gpu else {})},
    )
    threads = max(1, int(res.cpus_per_worker))
    footprint = None if not measure else {"measure": spec.search.footprint, "limits": dict(spec.search.constraints), "latency_batch": spec.search.latency_batch}

    def driver(sampled: dict[str, Any]) -> None:
        started = time.time()
        trial_id = tune.get_context().get_trial_id()
        trainer = make_trainer(
            train_loop_per_worker,
            train_loop_config={
                "trial": resolve(sampled), "data": [data_ref], "threads": threads, "t_driver": started,
                "tensorboard": str(root / TENSORBOARD_DIR / trial_id), "footprint": footprint,
            },
            scaling_config=scaling,
            run_config=ray.train.RunConfig(
                name=trial_id,
                storage_path=str(root / TRAIN_DIR),
                callbacks=[TuneReportCallback()],
                checkpoint_config=keep,
                # Retries are Tune's (same run name: they resume from the Train run's last checkpoint). A
                # Train-level retry would outlive a trial that Tune stopped: its controller would start a
                # new worker group, whose placement group nothing frees, and a small cluster hangs.
                failure_config=ray.train.FailureConfig(max_failures=0),
            ),
        )
        trainer.fit()

    return driver
