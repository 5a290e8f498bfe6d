"""A search's compute budget: the training and evaluation time its trials spend, whatever their start-up costs.

A wall-clock budget (``search.time_budget_s``) also pays for starting each trial's Ray actors, so a search of
many short trials (ASHA) trains less within it than one of a few long ones. ``search.compute_budget_s``
counts only what each epoch reports as its ``seconds``: searches, and a search and a set of hand-trained
models, compare at equal compute.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ray import tune

# A trial counts as in the middle of an epoch until this many times its last epoch's length has passed since
# that epoch's report (reporting and checkpointing take time too); later, ASHA has most likely stopped it.
IN_FLIGHT_SLACK = 1.5


class ComputeBudget(tune.Stopper):
    """Spends at most ``budget_s`` seconds on the epochs its trials report, as far as their last epochs foretell
    their next ones: a trial stops before an epoch that would not fit beside those in flight, and the search ends
    once the epochs in flight, or the cheapest epoch seen, would overrun what is left (trials then running are
    stopped; their epochs in progress are never reported, so never counted). A new trial's first epoch, whose
    length nothing foretells, can still overrun. Tune saves the stopper with the experiment, so ``--resume`` goes
    on counting; the wall clock, not a monotonic one, since a resumed search runs in another process."""

    def __init__(self, budget_s: float, max_epochs: int, clock: Callable[[], float] = time.time) -> None:
        self.budget_s = budget_s
        self.max_epochs = max_epochs  # a trial that reported its last epoch trains no more
        self.spent_s = 0.0
        self.cheapest_epoch_s: float | None = None
        self.in_flight: dict[str, tuple[float, float]] = {}  # trial -> (when its last epoch ended, its seconds)
        self.clock = clock

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        if "seconds" not in result:
            return False
        epoch_s = float(result["seconds"])
        self.spent_s += epoch_s
        self.cheapest_epoch_s = epoch_s if self.cheapest_epoch_s is None else min(self.cheapest_epoch_s, epoch_s)
        self.in_flight.pop(trial_id, None)
        stop = self.spent_s + self.in_flight_s() + epoch_s > self.budget_s
        if not stop and result.get("epoch", 0) < self.max_epochs:
            self.in_flight[trial_id] = (self.clock(), epoch_s)
        return stop

    def in_flight_s(self) -> float:
        """Seconds the epochs now in progress will most likely add."""
        now = self.clock()
        self.in_flight = {t: (end, s) for t, (end, s) in self.in_flight.items() if now - end < IN_FLIGHT_SLACK * s}
        return sum(s for _, s in self.in_flight.values())

    def stop_all(self) -> bool:
        if self.cheapest_epoch_s is None:
            return False
        left = self.budget_s - self.spent_s
        return left <= 0 or self.cheapest_epoch_s > left or self.in_flight_s() > left
