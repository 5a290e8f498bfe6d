"""A search's budget of work, summed over its trials' epochs: compute seconds or sample-epochs.

A wall-clock budget (``search.time_budget_s``) also pays for starting each trial's Ray actors, so a search of
many short trials (ASHA) trains less within it than one of a few long ones. ``search.compute_budget_s`` counts
only what each epoch reports as its ``seconds``, but a second buys less training on a busy machine.
``search.budget_sample_epochs`` counts what each epoch reports as its ``sample_epochs`` (training.trainer: the
samples it trained on, plus its validation passes' samples at the cost of a forward pass): the same budget buys
the same training whatever the machine and its load, so searches, and a search and a set of hand-trained
models, compare at equal work.
"""

from __future__ import annotations

import statistics
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ray import tune

from search.results.tables import short

if TYPE_CHECKING:
    from search.space.spec import SearchSection

# A trial counts as in the middle of an epoch until this many times its last epoch's length has passed since
# that epoch's report (reporting and checkpointing take time too); later, ASHA has most likely stopped it.
IN_FLIGHT_SLACK = 1.5


def whole(amount: float) -> str:
    return f"{amount:.0f}"


@dataclass(frozen=True)
class Unit:
    """What a budget counts: the result key each epoch reports its cost under, and how the progress view says it."""

    key: str
    label: str  # what the spending is called
    suffix: str  # after the amounts
    fmt: Callable[[float], str] = whole

    def show(self, spent: float, limit: float) -> str:
        return f"{self.label} {self.fmt(spent)}/{self.fmt(limit)} {self.suffix}"


# the search section's budget keys -> what each counts (search.space.spec allows one of them)
UNITS = {
    "compute_budget_s": Unit("seconds", "compute", "s"),
    "budget_sample_epochs": Unit("sample_epochs", "work", "sample-epochs", short),
}

# Tune restores the stopper from its experiment state and the callbacks from the tuner's own file, so after
# --resume the stopper Tune asks and the callback Tune tells of trial starts are two copies. The callback half
# passes what it hears to the copy made last (the stopper's, as Tune restores it after the tuner).
_LIVE: weakref.WeakValueDictionary[str, ComputeBudget] = weakref.WeakValueDictionary()


class ComputeBudget(tune.Stopper, tune.Callback):
    """Spends at most ``limit`` (in ``unit``) on the epochs its trials report, as far as their last epochs foretell
    their next ones: a trial stops before an epoch that would not fit beside those in flight, and the search ends
    once the epochs in flight, or the cheapest epoch seen, would overrun what is left (trials then running are
    stopped; their epochs in progress are never reported, so never counted).

    A trial just started counts as in flight with the median first epoch seen so far: before any first epoch has
    been reported nothing foretells one, and the first trials count for nothing until it has. Give the same object
    to Tune as the stopper and as a callback (it hears of trial starts and ends that way). Tune saves the stopper
    with the experiment, so ``--resume`` goes on counting; the wall clock, not a monotonic one, since a resumed
    search runs in another process.

    Example:
        >>> budget = ComputeBudget(2e6, max_epochs=6, unit=UNITS["budget_sample_epochs"])
        >>> tune.RunConfig(stop=budget, callbacks=[budget])
    """

    def __init__(
        self,
        limit: float,
        max_epochs: int,
        unit: Unit = UNITS["compute_budget_s"],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.unit = unit
        self.max_epochs = max_epochs  # a trial that reported its last epoch trains no more
        self.spent = 0.0
        self.cheapest_epoch: float | None = None
        self.first_epochs: list[float] = []  # the cost of every first epoch reported
        self.in_flight: dict[str, tuple[float, float, float]] = {}  # trial -> when its last epoch ended, its seconds, its cost
        self.starting: set[str] = set()  # trials started that have reported no epoch yet
        self.clock = clock
        self.key = uuid.uuid4().hex
        _LIVE[self.key] = self

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        _LIVE[self.key] = self

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        # When a trial's function returns, Tune hands the stopper its last result again, marked done
        # (tune_controller._process_trial_result's duplicate result): that epoch is paid for already.
        if self.unit.key not in result or result.get("done"):
            return False
        cost = float(result[self.unit.key])
        self.spent += cost
        self.cheapest_epoch = cost if self.cheapest_epoch is None else min(self.cheapest_epoch, cost)
        if result.get("epoch") == 1:
            self.first_epochs.append(cost)
        self.forget(trial_id)
        stop = self.spent + self.in_flight_cost() + cost > self.limit
        if not stop and result.get("epoch", 0) < self.max_epochs:
            self.in_flight[trial_id] = (self.clock(), float(result.get("seconds", 0.0)), cost)
        return stop

    def first_epoch(self) -> float:
        """The expected cost of a trial's first epoch: the median of those seen, 0 before any."""
        return statistics.median(self.first_epochs) if self.first_epochs else 0.0

    def in_flight_cost(self) -> float:
        """What the epochs now in progress, trials just started included, will most likely add."""
        now = self.clock()
        self.in_flight = {t: (end, s, c) for t, (end, s, c) in self.in_flight.items() if now - end < IN_FLIGHT_SLACK * s}
        return sum(c for _, _, c in self.in_flight.values()) + len(self.starting) * self.first_epoch()

    def stop_all(self) -> bool:
        if self.cheapest_epoch is None:
            return False
        left = self.limit - self.spent
        return left <= 0 or self.cheapest_epoch > left or self.in_flight_cost() > left

    def forget(self, trial_id: str) -> None:
        self.in_flight.pop(trial_id, None)
        self.starting.discard(trial_id)

    def live(self) -> ComputeBudget:
        return _LIVE.get(self.key, self)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.live().starting.add(trial.trial_id)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.live().forget(trial.trial_id)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.live().forget(trial.trial_id)


def make_budget(search: SearchSection, max_epochs: int) -> ComputeBudget | None:
    """The budget ``search`` sets (search.space.spec allows one), or None."""
    for key, unit in UNITS.items():
        limit = getattr(search, key)
        if limit is not None:
            return ComputeBudget(limit, max_epochs, unit)
    return None
