"""Hyperparameter importance: the search's trials as an Optuna study, assessed with fANOVA.

The study is rebuilt from each trial's sampled values, not from the searcher's saved state, so a
finished, resumed or killed search is served alike. The values are replayed through the space's own
sampling (``search.space.params.sample``): each rebuilt trial carries exactly the parameter names and
distributions that the search asked Optuna for, a conditional parameter only where it existed.
fANOVA assesses the parameters that all its trials share: a conditional one is assessed again among the
trials where it exists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna

from search.space.params import Param, optuna_values, sample

MIN_TRIALS = 2  # fANOVA compares trials: one tells nothing


class NoImportance(Exception):
    """Why importances cannot be assessed; the report says it instead of drawing them."""


@dataclass(frozen=True)
class Conditional:
    """A parameter that not every trial has, assessed among the trials that have it."""

    trials: int  # trials where it exists
    share: float | None  # its share of the variance explained among those trials; None: not assessed
    why_not: str = ""  # when not assessed


@dataclass(frozen=True)
class Importance:
    scores: dict[str, float]  # parameter -> share of the explained variance, highest first; sums to 1
    trials: int
    left_out: tuple[str, ...]  # searched, but not in every trial: fANOVA assesses only common parameters
    conditional: dict[str, Conditional] = field(default_factory=dict)  # each of left_out, among its trials


def rebuild_study(params: Sequence[Param], mode: str, results: Iterable[tuple[Mapping[str, Any], float]]) -> optuna.Study:
    """An in-memory study with one completed trial per (sampled values, search metric value)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # as the searcher does: no "study created" lines
    study = optuna.create_study(direction="maximize" if mode == "max" else "minimize")
    for sampled, value in results:
        replay = optuna.trial.FixedTrial(optuna_values(params, sampled))
        sample(list(params), replay)
        study.add_trial(optuna.trial.create_trial(params=replay.params, distributions=replay.distributions, value=value))
    return study


def importances(params: Sequence[Param], mode: str, results: Sequence[tuple[Mapping[str, Any], float]]) -> Importance:
    """fANOVA importances of the searched ``params`` for the search metric, which ``mode`` optimizes.

    Args:
        results: (sampled values, metric value) of every trial that has a result.

    Raises:
        NoImportance: too few trials, no searched parameter, or none common to every trial.
    """
    if not params:
        raise NoImportance("the space searches no parameters (it runs presets)")
    study = rebuild_study(params, mode, results)
    scores = shares(study.trials)
    searched = sorted({name for t in study.trials for name in t.params})
    left_out = tuple(name for name in searched if name not in scores)
    return Importance(
        scores=scores, trials=len(results), left_out=left_out, conditional=conditional_importances(study.trials, left_out)
    )


def shares(trials: Sequence[optuna.trial.FrozenTrial]) -> dict[str, float]:
    """fANOVA's share of the explained variance of each parameter common to ``trials``, highest first."""
    if len(trials) < MIN_TRIALS:
        raise NoImportance(f"fANOVA needs at least {MIN_TRIALS} trials with a result, this experiment has {len(trials)}")
    study = optuna.create_study()  # fANOVA explains the variance: the direction does not matter
    study.add_trials(trials)
    try:
        # Raw, not normalized: Optuna's normalization turns "explains nothing" into equal shares.
        raw = optuna.importance.FanovaImportanceEvaluator(seed=0).evaluate(study)
    except RuntimeError as e:  # fANOVA's "zero total variance": every trial scored the same, or was alike
        raise NoImportance(f"fANOVA found nothing to explain ({e})") from None
    if not raw:
        raise NoImportance("no searched parameter is common to every trial")
    total = sum(raw.values())
    if not math.isfinite(total) or total <= 0:
        raise NoImportance("the trials' metric does not vary with the parameters common to every trial")
    return {name: float(value / total) for name, value in sorted(raw.items(), key=lambda kv: -kv[1])}


def conditional_importances(trials: Sequence[optuna.trial.FrozenTrial], names: Iterable[str]) -> dict[str, Conditional]:
    """Each parameter of ``names`` assessed by fANOVA among the trials where it exists (with the parameters
    those trials share): parameters that exist in the same trials are assessed together, once."""
    by_trials: dict[tuple[int, ...], list[str]] = {}
    for name in names:
        by_trials.setdefault(tuple(i for i, t in enumerate(trials) if name in t.params), []).append(name)
    out: dict[str, Conditional] = {}
    for having, group in by_trials.items():
        try:
            scores, why_not = shares([trials[i] for i in having]), ""
        except NoImportance as e:
            scores, why_not = {}, str(e).replace("this experiment has", "it exists in")
        out.update({name: Conditional(len(having), scores.get(name), why_not) for name in group})
    return out
