"""Searchers and schedulers by the names a space file gives them (``searcher.name``, ``scheduler.name``).

A searcher is an Optuna sampler that Ray's OptunaSearch drives over the space's define-by-run function,
plus the points it must try first (a grid's every point). Adding one is a function and a decorator.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from ray.tune.schedulers import (
    ASHAScheduler,
    FIFOScheduler,
    HyperBandScheduler,
    MedianStoppingRule,
    TrialScheduler,
)

from search.runtime.moasha import MultiObjectiveASHA
from search.space.grid import grid_points
from search.space.params import optuna_values
from search.space.spec import SearchSpec


@dataclass(frozen=True)
class Strategy:
    sampler: optuna.samplers.BaseSampler
    points: tuple[dict[str, Any], ...] = ()  # Optuna's {name: value} of trials to run first, in order


SEARCHERS: dict[str, Callable[[SearchSpec], Strategy]] = {}
SCHEDULERS: dict[str, Callable[[SearchSpec], TrialScheduler]] = {}


def _register(registry: dict[str, Callable], name: str) -> Callable[[Callable], Callable]:
    def add(build: Callable) -> Callable:
        registry[name] = build
        return build

    return add


@_register(SEARCHERS, "tpe")
def _tpe(spec: SearchSpec) -> Strategy:
    s = spec.searcher
    # constant_liar: trials in flight count as pessimistic results, so concurrent proposals spread out.
    return Strategy(
        optuna.samplers.TPESampler(
            multivariate=s.multivariate,
            group=s.multivariate,
            constant_liar=True,
            n_startup_trials=s.n_startup_trials,
            seed=s.seed,
        )
    )


@_register(SEARCHERS, "random")
def _random(spec: SearchSpec) -> Strategy:
    return Strategy(optuna.samplers.RandomSampler(seed=spec.searcher.seed))


@_register(SEARCHERS, "grid")
def _grid(spec: SearchSpec) -> Strategy:
    # Every point is enqueued, and num_samples is the grid's size (search.space.grid): the sampler never draws.
    # Optuna's own GridSampler needs the same parameters in every trial, which a conditional space breaks.
    points = tuple(optuna_values(spec.params, p) for p in grid_points(spec.params))
    return Strategy(optuna.samplers.RandomSampler(seed=spec.searcher.seed), points)


# The model-based samplers below model the parameters every trial has; the conditional ones are drawn
# at random (Optuna's independent sampler), which Optuna would otherwise warn about at every trial.


@_register(SEARCHERS, "gp")
def _gp(spec: SearchSpec) -> Strategy:
    s = spec.searcher
    return Strategy(optuna.samplers.GPSampler(seed=s.seed, n_startup_trials=s.n_startup_trials, warn_independent_sampling=False))


@_register(SEARCHERS, "cmaes")
def _cmaes(spec: SearchSpec) -> Strategy:
    s = spec.searcher
    return Strategy(
        optuna.samplers.CmaEsSampler(seed=s.seed, n_startup_trials=s.n_startup_trials, warn_independent_sampling=False)
    )


@_register(SEARCHERS, "qmc")
def _qmc(spec: SearchSpec) -> Strategy:
    return Strategy(
        optuna.samplers.QMCSampler(
            seed=spec.searcher.seed,
            scramble=True,
            warn_independent_sampling=False,
            warn_asynchronous_seeding=False,
        )
    )


class PicklableNSGAII(optuna.samplers.NSGAIISampler):
    """Optuna 5's NSGA-II sampler holds a ``threading.Lock``, which pickle refuses, and Tune pickles the searcher
    with the experiment's state (so ``--resume`` has it): the lock is left out and made anew on unpickling.
    ``tests/search/runtime/test_strategies.py`` notices when Optuna's own sampler pickles."""

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_thread_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()


@_register(SEARCHERS, "nsga2")
def _nsga2(spec: SearchSpec) -> Strategy:
    s = spec.searcher
    return Strategy(PicklableNSGAII(population_size=s.population_size, seed=s.seed))


# Schedulers count epochs done, not Tune's iterations: a trial retried or restored resumes from its
# checkpoint, and Tune's count starts again at 1.


@_register(SCHEDULERS, "asha")
def _asha(spec: SearchSpec) -> TrialScheduler:
    sc, goals = spec.scheduler, spec.search.goals
    if len(goals) > 1:  # at each rung, the best non-dominated fronts go on (search.runtime.moasha)
        return MultiObjectiveASHA(goals, "epoch", sc.max_t, sc.grace_period, sc.reduction_factor)
    return ASHAScheduler(time_attr="epoch", max_t=sc.max_t, grace_period=sc.grace_period, reduction_factor=sc.reduction_factor)


@_register(SCHEDULERS, "hyperband")
def _hyperband(spec: SearchSpec) -> TrialScheduler:
    sc = spec.scheduler
    # Synchronous HyperBand pauses trials at each rung; a paused trial resumes from its last checkpoint.
    return HyperBandScheduler(time_attr="epoch", max_t=sc.max_t, reduction_factor=sc.reduction_factor)


@_register(SCHEDULERS, "median")
def _median(spec: SearchSpec) -> TrialScheduler:
    sc = spec.scheduler
    return MedianStoppingRule(time_attr="epoch", grace_period=sc.grace_period)


@_register(SCHEDULERS, "none")
def _none(spec: SearchSpec) -> TrialScheduler:
    return FIFOScheduler()
