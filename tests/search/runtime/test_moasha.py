"""The multi-objective ASHA scheduler, driven with crafted results (no Ray cluster)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ray.tune.schedulers import ASHAScheduler, TrialScheduler

from search.runtime.moasha import MultiObjectiveASHA

RUNGS = {"time_attr": "epoch", "max_t": 4, "grace_period": 1, "reduction_factor": 2}
OBJECTIVES = {"val_robust_f1": "max", "latency_ms": "min"}
# (trial, val_robust_f1, latency_ms) as they reach the first rung (epoch 1), in this order: "small" is
# a little less accurate than every other trial and six times faster than any of them.
ARRIVALS = [("big", 0.95, 3.0), ("big2", 0.94, 3.2), ("big3", 0.93, 4.0), ("small", 0.92, 0.5)]


def decisions(scheduler: TrialScheduler, arrivals: list[tuple[str, float, float]], epoch: int = 1) -> dict[str, str]:
    out = {}
    for trial_id, f1, latency in arrivals:
        trial = SimpleNamespace(trial_id=trial_id)
        scheduler.on_trial_add(None, trial)
        out[trial_id] = scheduler.on_trial_result(None, trial, {"epoch": epoch, "val_robust_f1": f1, "latency_ms": latency})
    return out


def test_small_slightly_less_accurate_trial_survives_the_rung_that_asha_stops_it_at() -> None:
    asha = decisions(ASHAScheduler(metric="val_robust_f1", mode="max", **RUNGS), ARRIVALS)
    moasha = decisions(MultiObjectiveASHA(OBJECTIVES, **RUNGS), ARRIVALS)
    assert asha["small"] == TrialScheduler.STOP  # the least accurate of four: below ASHA's median cutoff
    assert moasha["small"] == TrialScheduler.CONTINUE  # on the Pareto front with "big": the best 2 of 4
    # Both keep the most accurate trial and stop the ones it dominates (as accurate or less, and slower).
    assert asha["big"] == moasha["big"] == TrialScheduler.CONTINUE
    assert moasha["big2"] == moasha["big3"] == TrialScheduler.STOP


def test_a_trial_is_judged_once_per_rung_and_stops_at_max_t() -> None:
    scheduler = MultiObjectiveASHA(OBJECTIVES, **RUNGS)
    decisions(scheduler, ARRIVALS)
    trial = SimpleNamespace(trial_id="big2")  # stopped at epoch 1; a late report at that rung is not judged again
    assert (
        scheduler.on_trial_result(None, trial, {"epoch": 1, "val_robust_f1": 0.1, "latency_ms": 9.0}) == TrialScheduler.CONTINUE
    )
    # Epoch 2: the second rung, empty so far: the first trial there goes on.
    assert decisions(scheduler, [("small", 0.95, 0.5)], epoch=2)["small"] == TrialScheduler.CONTINUE
    assert decisions(scheduler, [("small", 0.96, 0.5)], epoch=4)["small"] == TrialScheduler.STOP  # max_t


@pytest.mark.parametrize("result", [{"epoch": 0, "val_robust_f1": float("nan"), "latency_ms": 9.0}, {"latency_ms": 1.0}])
def test_results_without_comparable_values_are_not_recorded(result: dict) -> None:
    scheduler = MultiObjectiveASHA(OBJECTIVES, **{**RUNGS, "grace_period": 1})
    trial = SimpleNamespace(trial_id="x")
    assert (
        scheduler.on_trial_result(None, trial, {**result, "epoch": 1} if "epoch" in result else result) == TrialScheduler.CONTINUE
    )
    assert all(not recorded for _, recorded in scheduler._rungs)


def test_tune_may_pass_the_first_objective_only() -> None:
    scheduler = MultiObjectiveASHA(OBJECTIVES, **RUNGS)
    assert scheduler.set_search_properties("val_robust_f1", "max")
    assert not scheduler.set_search_properties("val_loss", "min")
    assert scheduler.metric == "val_robust_f1"
