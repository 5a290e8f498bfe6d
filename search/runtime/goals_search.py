"""Optuna over several objectives and under hard limits, through Ray Tune's ``OptunaSearch``.

``OptunaSearch`` tells Optuna a trial's objective values only. ``GoalSearch`` also tells it how far the
trial's FOOTPRINT measures are from the space's limits, with ``Trial.set_constraint`` (Optuna 5's way: it
deprecated the samplers' ``constraints_func``), which TPE and NSGA-II read; and it tells a trial that broke
a limit before training (``search.results.pareto.INFEASIBLE``) as complete, with stand-in values: both samplers
rank infeasible trials by how far they break the limits, before and apart from any value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ray.tune.search.optuna import OptunaSearch

from search.results.pareto import INFEASIBLE, violations

# An objective a trial never measured (it was not trained): finite, since NSGA-II's crowding distance does
# arithmetic on every value, and worse than any measured (F1 and accuracy lie in [0, 1]).
STAND_IN = {"max": -1.0, "min": 1e9}


class GoalSearch(OptunaSearch):
    """``OptunaSearch`` that tells Optuna each trial's constraint values, and a trial over a limit as infeasible.

    Args:
        limits: {FOOTPRINT name: upper limit}; the other arguments are OptunaSearch's (metric and mode
            may be lists: one per objective).
    """

    def __init__(self, *args: Any, limits: Mapping[str, float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = dict(limits or {})

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if result and trial_id in self._ot_trials and trial_id not in self._completed_trials:
            ot_trial = self._ot_trials[trial_id]
            for name, excess in violations(result, self.limits).items():
                ot_trial.set_constraint(name, excess)  # > 0: broken
            if result.get(INFEASIBLE):
                metrics = self.metric if isinstance(self.metric, list) else [self.metric]
                modes = self.mode if isinstance(self.mode, list) else [self.mode]
                result = {
                    **result,
                    **{m: STAND_IN[mode] for m, mode in zip(metrics, modes) if math.isnan(result.get(m, math.nan))},
                }
        super().on_trial_complete(trial_id, result, error)
