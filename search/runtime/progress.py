"""A concise progress view a person can follow, in place of Ray's verbose tables."""

from __future__ import annotations

import math
import time
from typing import Any

from ray import tune

from search.results.pareto import INFEASIBLE
from search.runtime.budget import ComputeBudget


def short_config(config: dict[str, Any], limit: int = 6) -> str:
    """The first few sampled values, as key=value."""
    config = config.get("sampled", config)
    items = [
        f"{k.split('.', 1)[-1]}={v:.3g}" if isinstance(v, float) else f"{k.split('.', 1)[-1]}={v}"
        for k, v in config.items()
        if not k.startswith("_")
    ]
    return " ".join(items[:limit]) + (" ..." if len(items) > limit else "")


class Progress(tune.Callback):
    """Prints one line per finished trial and a status line at most every ``every_s`` seconds."""

    def __init__(
        self,
        metric: str,
        mode: str,
        num_trials: int,
        max_t: int,
        every_s: float = 30.0,
        time_budget_s: float | None = None,
        budget: ComputeBudget | None = None,
    ) -> None:
        self.metric, self.mode, self.num_trials, self.max_t = metric, mode, num_trials, max_t
        self.time_budget_s = time_budget_s
        # the budget's limit and unit, not the budget: Tune pickles its callbacks apart from its stopper
        self.budget = (budget.limit, budget.unit) if budget is not None else None
        self.spent = 0.0  # in the budget's unit, as the epochs report it
        self.every_s = every_s  # no stream kept: Tune pickles its callbacks with the experiment state
        self.start = time.monotonic()
        self.last_print = 0.0
        self.counts = {"done": 0, "stopped early": 0, "failed": 0}
        self.running: set[str] = set()
        self.epochs: dict[str, int] = {}
        self.infeasible: dict[str, str] = {}  # trial -> the limit its model broke (search.results.pareto.INFEASIBLE)
        self.best: tuple[float, str, dict[str, Any]] | None = None

    def better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best[0] if self.mode == "max" else value < self.best[0]

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running.add(trial.trial_id)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.epochs[trial.trial_id] = int(result.get("epoch", 0))
        if result.get(INFEASIBLE):
            self.infeasible[trial.trial_id] = result[INFEASIBLE]
        if self.budget is not None:
            self.spent += float(result.get(self.budget[1].key, 0.0))
        value = result.get(self.metric)
        if value is not None and not math.isnan(value) and self.better(value):  # NaN: a trial over a limit
            self.best = (value, trial.trial_id, trial.config)
        if time.monotonic() - self.last_print > self.every_s:
            self.status()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running.discard(trial.trial_id)
        epochs = self.epochs.get(trial.trial_id, 0)
        if trial.trial_id in self.infeasible:
            self.counts["infeasible"] = self.counts.get("infeasible", 0) + 1
            self.write(f"trial {trial.trial_id} infeasible ({self.infeasible[trial.trial_id]}): not trained")
            return
        kind = "done" if epochs >= self.max_t else "stopped early"
        self.counts[kind] += 1
        self.write(f"trial {trial.trial_id} {kind} after {epochs} epoch(s)")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.running.discard(trial.trial_id)
        self.counts["failed"] += 1
        self.write(f"trial {trial.trial_id} FAILED (error saved in its trial folder)")

    def write(self, event: str) -> None:
        print(f"[{self.elapsed()}] {event}")
        self.status()

    def remaining_s(self, finished: int) -> float | None:
        """The soonest end among the trial count's, the wall budget's and the compute budget's, at the pace so far."""
        elapsed = time.monotonic() - self.start
        ends = []
        if finished:
            ends.append(elapsed / finished * (self.num_trials - finished))
        if self.time_budget_s:
            ends.append(self.time_budget_s - elapsed)
        if self.budget is not None and self.spent:
            ends.append(elapsed / self.spent * (self.budget[0] - self.spent))
        return max(0.0, min(ends)) if ends else None

    def elapsed(self) -> str:
        return fmt_seconds(time.monotonic() - self.start)

    def status(self) -> None:
        self.last_print = time.monotonic()
        finished = sum(self.counts.values())
        counts = ", ".join(f"{n} {k}" for k, n in self.counts.items())
        line = f"[{self.elapsed()}] {finished}/{self.num_trials} trials finished ({counts}), {len(self.running)} running"
        if self.budget is not None:
            line += ", " + self.budget[1].show(self.spent, self.budget[0])
        remaining = self.remaining_s(finished)
        if remaining is not None:
            line += f", ~{fmt_seconds(remaining)} left"
        if self.best is not None:
            value, trial_id, config = self.best
            line += f"\n           best {self.metric}={value:.4f} ({trial_id}: {short_config(config)})"
        print(line, flush=True)


def fmt_seconds(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"
