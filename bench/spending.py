"""What each arm of bench/real_benchmark.py spent: work, the unit its budget is given in, and seconds beside it.

Work is sample-epochs (``search.budget_sample_epochs``: samples trained on, plus validation samples at a third),
the same on any machine under any load, so the arms compare at equal work. Beside it: the epochs' wall seconds
(what ``search.compute_budget_s`` counts; other jobs on the machine inflate them) and their CPU seconds, the
process CPU time of each trial's worker over its epochs as the trainer reports it (all its threads; one each here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from search.api import ExperimentFolder
from search.results.tables import short
from search.runtime.budget import UNITS

BUDGET = "budget_sample_epochs"
WORK = UNITS[BUDGET].key  # what each epoch reports its work under


def search_limit(facts: dict[str, Any]) -> dict[str, float]:
    """A search's budget override: ``--budget-minutes`` of wall time, or else step 1's work."""
    if facts["wall_budget_s"]:
        return {"search.time_budget_s": facts["wall_budget_s"]}
    return {f"search.{BUDGET}": round(facts["budget_work"])}


def spent(history: pd.DataFrame, facts: dict[str, Any]) -> str:
    """An arm's work (and its share of step 1's) and its epochs' wall and CPU seconds, for the report."""
    if history.empty:
        return "nothing"
    work = history[WORK].sum()
    return (
        f"{short(work)} sample-epochs of work ({work / facts['budget_work']:.0%} of step 1's), "
        f"{history['seconds'].sum():.0f} s wall and {history['cpu_seconds'].sum():.0f} s CPU in its epochs"
    )


def budget_text(facts: dict[str, Any]) -> str:
    """The report's line on the searches' budget."""
    step1 = (
        f"step 1's work, {short(facts['budget_work'])} sample-epochs ({facts['budget_s']:.0f} s wall and "
        f"{facts['budget_cpu_s']:.0f} s CPU in its epochs)"
    )
    if facts["wall_budget_s"]:
        return (
            f"- budget: each search got `search.time_budget_s` = {facts['wall_budget_s']:.0f} s (`--budget-minutes`), "
            f"whatever\n  {step1}"
        )
    return (
        f"- budget: {step1}:\n  each search's cap (`search.{BUDGET}`, the same work on any machine under any load): trials\n"
        "  stopped, and the search ended, before the epochs in flight (trials just started counted at the median first\n"
        "  epoch) would overrun it. Start-up of trials (Ray Train workers) is counted in no arm's work"
    )


def step1_facts(root: Path) -> dict[str, float]:
    """Step 1's work, the searches' budget, and its epochs' CPU seconds."""
    folder = ExperimentFolder(root)
    history = [r for t in folder.trial_ids() for r in folder.history(t)]
    return {
        "budget_work": sum(r.get(WORK, 0.0) for r in history),
        "budget_cpu_s": sum(r.get("cpu_seconds", 0.0) for r in history),
    }
