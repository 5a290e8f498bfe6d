"""Searchers and schedulers by the names a space file gives them (``searcher.name``, ``scheduler.name``).

A searcher is an Optuna sampler that Ray's OptunaSearch drives over the space's define-by-run function,
plus the points it must try first (a grid's every point). Adding one is a function and a decorator.
"""
from __future__ import annotations

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

from search.space.grid import grid_points
from search.space.params import optuna_values
from search.space.spec import SchedulerSection, SearchSpec


@dataclass(frozen=True)
class Strategy:
    sampler: optuna.samplers.BaseSampler
    points: tuple[dict[str, Any], ...] = ()  # Optuna's {name: value} of trials to run first, in order


SEARCHERS: dict[str, Callable[[SearchSpec], Strategy]] = {}
SCHEDULERS: dict[str, Callable[[SchedulerSection], TrialScheduler]] = {}


def _register(registry: dict[str, Callable], name: str) -> Callable[[Callable], Callable]:
    def add(build: Callable) -> Callable:
        registry[name] = build
        return build

    return add


@_register(SEARCHERS, "tpe")
def _tpe(spec: SearchSpec) -> Strategy:
    s = spec.searcher
    # constant_liar: trials in flight count as pessimistic results, so concurrent proposals spread out.
    return Strategy(optuna.samplers.TPESampler(
        multivariate=s.multivariate, group=s.multivariate, constant_liar=True, n_startup_trials=s.n_startup_trials, seed=s.seed,
    ))


@_register(SEARCHERS, "random")
def _random(spec: SearchSpec) -> Strategy:
    return Strategy(optuna.samplers.RandomSampler(seed=spec.searcher.seed))


@_register(SEARCHERS, "grid")
def _grid(spec: SearchSpec) -> Strategy:
    # Every point is enqueued, and num_samples is the grid's size (search.grid): the sampler never draws.
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
    return Strategy(optuna.samplers.CmaEsSampler(seed=s.seed, n_startup_trials=s.n_startup_trials, warn_independent_sampling=False))


@_register(SEARCHERS, "qmc")
def _qmc(spec: SearchSpec) -> Strategy:
    return Strategy(optuna.samplers.QMCSampler(
        seed=spec.searcher.seed, scramble=True, warn_independent_sampling=False, warn_asynchronous_seeding=False,
    ))


# Schedulers count epochs done, not Tune's iterations: a trial retried or restored resumes from its
# checkpoint, and Tune's count starts again at 1.

@_register(SCHEDULERS, "asha")
def _asha(sc: SchedulerSection) -> TrialScheduler:
    return ASHAScheduler(time_attr="epoch", max_t=sc.max_t, grace_period=sc.grace_period, reduction_factor=sc.reduction_factor)


@_register(SCHEDULERS, "hyperband")
def _hyperband(sc: SchedulerSection) -> TrialScheduler:
    # Synchronous HyperBand pauses trials at each rung; a paused trial resumes from its last checkpoint.
    return HyperBandScheduler(time_attr="epoch", max_t=sc.max_t, reduction_factor=sc.reduction_factor)


@_register(SCHEDULERS, "median")
def _median(sc: SchedulerSection) -> TrialScheduler:
    return MedianStoppingRule(time_attr="epoch", grace_period=sc.grace_period)


@_register(SCHEDULERS, "none")
def _none(sc: SchedulerSection) -> TrialScheduler:
    return FIFOScheduler()
