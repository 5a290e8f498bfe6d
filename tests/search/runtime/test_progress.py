"""The progress view: counts, the best trial so far, and a remaining-time estimate that honours the budgets."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from search.runtime import progress as progress_module
from search.runtime.budget import UNITS, ComputeBudget
from search.runtime.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    return clock


def trial(trial_id: str, **sampled: object) -> SimpleNamespace:
    return SimpleNamespace(trial_id=trial_id, config={"sampled": sampled})


def status_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().out.splitlines() if "trials finished" in line]
    return lines[-1]


def test_counts_trials_by_outcome_and_tracks_the_best(clock, capsys):
    view = Progress("val_f1", "max", num_trials=4, max_t=3)
    a, b, c = trial("a", lr=0.01), trial("b", lr=0.1), trial("c", lr=1.0)
    for t in (a, b, c):
        view.on_trial_start(0, [], t)
    view.on_trial_result(0, [], a, {"epoch": 3, "val_f1": 0.8})
    view.on_trial_result(0, [], b, {"epoch": 1, "val_f1": 0.9})
    view.on_trial_result(0, [], c, {"epoch": 1, "val_f1": 0.5})
    view.on_trial_complete(0, [], a)
    view.on_trial_complete(0, [], b)
    view.on_trial_error(0, [], c)
    out = capsys.readouterr().out
    assert "trial a done after 3 epoch(s)" in out
    assert "trial b stopped early after 1 epoch(s)" in out
    assert "trial c FAILED" in out
    assert "3/4 trials finished (1 done, 1 stopped early, 1 failed), 0 running" in out
    assert "best val_f1=0.9000 (b: lr=0.1)" in out.splitlines()[-1]


def test_a_loss_is_better_when_lower(clock):
    view = Progress("val_loss", "min", num_trials=2, max_t=1)
    view.on_trial_result(0, [], trial("a"), {"epoch": 1, "val_loss": 0.3})
    view.on_trial_result(0, [], trial("b"), {"epoch": 1, "val_loss": 0.5})
    assert view.best[:2] == (0.3, "a")


def test_the_estimate_is_the_soonest_end_among_trial_count_and_budgets(clock, capsys):
    view = Progress("val_f1", "max", num_trials=100, max_t=2, budget=ComputeBudget(40.0, max_epochs=2))
    t = trial("a")
    view.on_trial_start(0, [], t)
    clock.now += 60
    view.on_trial_result(0, [], t, {"epoch": 1, "val_f1": 0.5, "seconds": 10.0})
    view.on_trial_complete(0, [], t)
    # by the trial count: 60 s per trial, 99 to go; by compute: 10 of 40 s spent in 60 s, 180 s to go
    assert "compute 10/40 s, ~3m00s left" in status_line(capsys)

    view = Progress("val_f1", "max", num_trials=100, max_t=2, time_budget_s=90.0)
    view.on_trial_start(0, [], t)
    clock.now += 60
    view.on_trial_complete(0, [], t)
    assert status_line(capsys).endswith(", ~0m30s left")  # the wall budget ends first

    view = Progress("val_f1", "max", num_trials=2, max_t=2)
    view.status()
    assert status_line(capsys).endswith("0 running")  # nothing finished, no budget: no estimate


def test_a_budget_of_sample_epochs_shows_the_work_spent(clock, capsys):
    budget = ComputeBudget(4_000_000, max_epochs=2, unit=UNITS["budget_sample_epochs"])
    view = Progress("val_f1", "max", num_trials=100, max_t=2, budget=budget)
    t = trial("a")
    view.on_trial_start(0, [], t)
    clock.now += 60
    view.on_trial_result(0, [], t, {"epoch": 1, "val_f1": 0.5, "seconds": 10.0, "sample_epochs": 1_000_000.0})
    view.on_trial_complete(0, [], t)
    # a quarter of the work in 60 s: 180 s to go, sooner than the trial count's end
    assert "work 1M/4M sample-epochs, ~3m00s left" in status_line(capsys)


def test_a_trial_over_a_limit_is_counted_as_infeasible_and_never_the_best(clock, capsys):
    view = Progress("val_f1", "max", num_trials=2, max_t=3)
    a, b = trial("a", lr=0.01), trial("b", lr=0.1)
    for t in (a, b):
        view.on_trial_start(0, [], t)
    view.on_trial_result(0, [], a, {"epoch": 0, "val_f1": float("nan"), "infeasible": "params 312,522 > 200,000"})
    view.on_trial_complete(0, [], a)
    assert "trial a infeasible (params 312,522 > 200,000): not trained" in capsys.readouterr().out
    view.on_trial_result(0, [], b, {"epoch": 1, "val_f1": 0.5})
    view.status()
    line = status_line(capsys)
    assert "1 infeasible" in line and "1 running" in line
    assert view.best[1] == "b"
