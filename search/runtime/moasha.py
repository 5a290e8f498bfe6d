"""A multi-objective asynchronous successive halving (MOASHA) scheduler for Ray Tune.

Ray's ``ASHAScheduler`` compares trials on one metric; Optuna's pruners are single-objective too. This is
ASHA with the rung decision of Syne Tune's MOASHA (Schmucker et al., 2021): at each rung, the trials that
reached it are ordered by non-dominated sorting (Pareto fronts, best first) and, within the front that
the cut falls in, by NSGA-II's crowding distance (the most isolated first), in place of MOASHA's
epsilon-net: both keep a spread of the front, and the crowding distance needs no tuning. A trial that
reaches a rung goes on if it is among the best ``ceil(n / reduction_factor)`` of the ``n`` trials recorded
there (itself included), else it stops: the asynchronous rule of Ray's ASHA (one bracket, the same
rungs: ``grace_period * reduction_factor**k`` below ``max_t``), with a Pareto order in place of a quantile.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from typing import Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from search.results.pareto import costs, priority_order


class MultiObjectiveASHA(FIFOScheduler):
    """Asynchronous successive halving over several objectives.

    Args:
        objectives: {reported metric: "max" or "min"}, in order; the first is the one Tune's own
            bookkeeping (``TuneConfig(metric=...)``) follows.
        time_attr: the reported progress counter (epochs).
        max_t: a trial stops once ``time_attr`` reaches it.
        grace_period: the first rung.
        reduction_factor: rungs are ``grace_period * reduction_factor**k``; about one trial in
            ``reduction_factor`` goes on from each.

    Example:
        >>> MultiObjectiveASHA({"val_robust_f1": "max", "latency_ms": "min"}, "epoch", 20, 2, 3)
    """

    def __init__(
        self,
        objectives: Mapping[str, str],
        time_attr: str,
        max_t: int,
        grace_period: int,
        reduction_factor: float,
    ) -> None:
        super().__init__()
        self._objectives = dict(objectives)
        self._metric = next(iter(self._objectives))
        self._time_attr, self._max_t, self._reduction_factor = time_attr, max_t, reduction_factor
        # Ray's _Bracket(grace_period, max_t, reduction_factor, s=0): the same rungs as ASHAScheduler's.
        count = int(math.log(max_t / grace_period) / math.log(reduction_factor) + 1)
        # highest first; each rung maps trial id -> the objective values it reached there
        self._rungs: list[tuple[float, dict[str, list[float]]]] = [
            (grace_period * reduction_factor**k, {}) for k in reversed(range(count))
        ]
        self._num_stopped = 0

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        # Tune passes its single metric, the first objective: the objectives were fixed at construction.
        return metric in (None, self._metric)

    def on_trial_result(self, tune_controller: Any, trial: Trial, result: dict[str, Any]) -> str:
        if self._time_attr not in result:
            return TrialScheduler.CONTINUE
        if result[self._time_attr] >= self._max_t:
            self._num_stopped += 1
            return TrialScheduler.STOP
        action = self.on_rung(trial.trial_id, result[self._time_attr], result)
        self._num_stopped += action == TrialScheduler.STOP
        return action

    def on_trial_complete(self, tune_controller: Any, trial: Trial, result: dict[str, Any]) -> None:
        if result and self._time_attr in result:  # as Ray's ASHA: a finished trial's last result is recorded too
            self.on_rung(trial.trial_id, result[self._time_attr], result)

    def on_rung(self, trial_id: str, progress: float, result: Mapping[str, Any]) -> str:
        """Record the trial at the highest rung it reached and has not been judged at; STOP if it is not
        among the best ``ceil(n / reduction_factor)`` there."""
        values = [result.get(name) for name in self._objectives]
        if any(v is None or math.isnan(v) for v in values):  # not comparable (e.g. a trial that never trained)
            return TrialScheduler.CONTINUE
        for milestone, recorded in self._rungs:
            if progress < milestone or trial_id in recorded:
                continue
            recorded[trial_id] = values
            ids = list(recorded)
            order = priority_order(costs(list(recorded.values()), list(self._objectives.values())))
            keep = math.ceil(len(ids) / self._reduction_factor)
            return TrialScheduler.CONTINUE if ids.index(trial_id) in order[:keep] else TrialScheduler.STOP
        return TrialScheduler.CONTINUE

    def debug_string(self) -> str:
        rungs = ", ".join(f"epoch {m:g}: {len(r)} trials" for m, r in reversed(self._rungs))
        return f"Using multi-objective ASHA over {', '.join(self._objectives)}: num_stopped={self._num_stopped}; {rungs}"

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.__dict__, f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(pickle.load(f))
