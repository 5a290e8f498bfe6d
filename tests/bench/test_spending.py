"""What the real-data benchmark gives each search and reports of it: work in sample-epochs, wall and CPU seconds."""

from __future__ import annotations

import json

import pandas as pd

from bench.spending import budget_text, search_limit, spent, step1_facts
from search.runtime.budget import UNITS, make_budget
from search.space.spec import load_spec
from tests.helpers import ROOT

FACTS = {"budget_s": 714.0, "budget_cpu_s": 700.0, "budget_work": 2_345_678.4, "wall_budget_s": None}


def test_each_search_gets_step_1s_work_as_its_budget():
    limit = search_limit(FACTS)
    assert limit == {"search.budget_sample_epochs": 2_345_678}
    spec = load_spec(ROOT / "spaces" / "fusion.yaml", limit)  # a valid override of the space file
    assert make_budget(spec.search, spec.scheduler.max_t).unit == UNITS["budget_sample_epochs"]
    assert "2.35M sample-epochs (714 s wall and 700 s CPU in its epochs):\n  each search's cap" in budget_text(FACTS)
    minutes = {**FACTS, "wall_budget_s": 120.0}
    assert search_limit(minutes) == {"search.time_budget_s": 120.0}
    assert "`search.time_budget_s` = 120 s" in budget_text(minutes)


def test_an_arm_reports_its_work_beside_its_wall_and_cpu_seconds():
    history = pd.DataFrame({"sample_epochs": [1e6, 0.5e6], "seconds": [50.0, 40.0], "cpu_seconds": [45.0, 30.0]})
    assert (
        spent(history, {**FACTS, "budget_work": 3e6})
        == "1.5M sample-epochs of work (50% of step 1's), 90 s wall and 75 s CPU in its epochs"
    )
    assert spent(pd.DataFrame(), FACTS) == "nothing"


def test_step_1s_facts_add_up_its_trials_epochs(tmp_path):
    for trial, rows in {"a": [(1000.0, 2.0), (1000.0, 2.5)], "b": [(500.0, 1.0)]}.items():
        (tmp_path / "tune" / trial).mkdir(parents=True)
        lines = [json.dumps({"epoch": i + 1, "sample_epochs": w, "cpu_seconds": c}) for i, (w, c) in enumerate(rows)]
        (tmp_path / "tune" / trial / "result.json").write_text("\n".join(lines) + "\n")
        (tmp_path / "tune" / trial / "params.json").write_text("{}")
    assert step1_facts(tmp_path) == {"budget_work": 2500.0, "budget_cpu_s": 5.5}
