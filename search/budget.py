"""A search's compute budget: the training and evaluation time its trials spend, whatever their start-up costs.

A wall-clock budget (``search.time_budget_s``) also pays for starting each trial's Ray actors, so a search of
many short trials (ASHA) trains less within it than one of a few long ones. ``search.compute_budget_s``
counts only what each epoch reports as its ``seconds``: searches, and a search and a set of hand-trained
models, compare at equal compute.
"""
from __future__ import annotations

from typing import Any

from ray import tune


class ComputeBudget(tune.Stopper):
    """Ends the search once the epochs its trials reported add up to ``budget_s`` seconds; trials still
    running then are stopped. Tune saves the stopper with the experiment, so ``--resume`` goes on counting."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.spent_s = 0.0

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        self.spent_s += float(result.get("seconds", 0.0))
        return False

    def stop_all(self) -> bool:
        return self.spent_s >= self.budget_s
