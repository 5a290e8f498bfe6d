"""The results of a multi-objective search, from crafted trial folders (no Ray): the leaderboard's infeasible
rows and objective columns, pareto.csv / .md, the report's figure, and which trials retraining takes."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pandas as pd

from search.report import write_report
from search.results.folder import TUNE_DIR
from search.results.front import retrain_trials
from search.results.leaderboard import markdown, trial_table, write_leaderboard
from search.results.pareto import INFEASIBLE
from search.space.spec import load_spec

SPACE = """
name: multi
search: {objectives: {val_robust_f1: max, latency_ms: min}, constraints: {params: 200000, latency_ms: 2.0}}
scheduler: {max_t: 2, grace_period: 1, reduction_factor: 2}
retrain: {top_k: 2}
fixed:
  model: {image: {name: mlp}, audio: {name: mlp}, fusion: {name: concat}}
space: {train.lr: {loguniform: [1.0e-3, 1.0e-1]}}
"""
NAN = float("nan")


def epoch(n: int, robust: float, latency: float, params: int = 50_000) -> dict:
    return {
        "epoch": n,
        "val_f1": robust,
        "val_accuracy": robust,
        "val_loss": 1 - robust,
        "val_robust_f1": robust,
        "params": params,
        "model_mb": params * 4e-6,
        "latency_ms": latency,
        "seconds": 1.0,
    }


TRIALS = {  # trial id -> its reported epochs
    "accurate": [epoch(1, 0.90, 1.5), epoch(2, 0.95, 1.5)],
    "fast": [epoch(1, 0.85, 0.3), epoch(2, 0.91, 0.3)],
    "middle": [epoch(1, 0.92, 0.8), epoch(2, 0.93, 0.8)],
    "dominated": [epoch(1, 0.80, 1.6)],  # stopped early, worse than "middle" on both
    "huge": [
        {
            "epoch": 0,
            INFEASIBLE: "params 312,522 > 200,000",
            "val_f1": NAN,
            "val_accuracy": NAN,
            "val_loss": NAN,
            "val_robust_f1": NAN,
            "params": 312_522,
            "model_mb": 1.25,
            "latency_ms": 0.9,
        }
    ],
}


def experiment(tmp_path: Path):
    (tmp_path / "space.yaml").write_text(textwrap.dedent(SPACE))
    spec = load_spec(tmp_path / "space.yaml")
    for i, (trial_id, rows) in enumerate(TRIALS.items()):
        folder = tmp_path / TUNE_DIR / trial_id
        folder.mkdir(parents=True)
        (folder / "params.json").write_text(json.dumps({"sampled": {"train.lr": 10 ** -(1 + i / 2)}}))
        (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return spec


def test_the_leaderboard_lists_fronts_objectives_and_the_infeasible_trial(tmp_path):
    spec = experiment(tmp_path)
    table = trial_table(tmp_path, spec.search, spec.resolver())
    assert table["trial_id"].tolist() == [
        "accurate",
        "middle",
        "fast",
        "dominated",
        "huge",
    ]  # front 1 by robust F1, front 2, the rest
    assert table["front"].tolist()[:4] == [1, 1, 1, 2] and pd.isna(table["front"].iloc[4])
    huge = table.iloc[4]
    assert huge["status"] == "infeasible: params 312,522 > 200,000" and huge["epochs"] == 0 and huge["params"] == 312_522
    assert math.isnan(huge["val_robust_f1"])
    header = markdown(table, spec.search.metric).splitlines()[0]
    for column in ("front", "val_robust_f1", "params", "model_mb", "latency_ms"):
        assert f" {column} " in header
    write_leaderboard(tmp_path, table, spec.name, spec.search)
    assert (
        (tmp_path / "leaderboard.md")
        .read_text()
        .startswith("# multi: trials by Pareto front over val_robust_f1, latency_ms, then best val_robust_f1")
    )


def test_pareto_files_and_figure(tmp_path):
    spec = experiment(tmp_path)
    table = trial_table(tmp_path, spec.search, spec.resolver())
    text = (write_report(tmp_path, spec, table)).read_text()
    front = pd.read_csv(tmp_path / "pareto.csv")
    assert front["trial_id"].tolist() == ["accurate", "middle", "fast"]
    assert list(front.columns[:4]) == ["trial_id", "status", "val_robust_f1", "latency_ms"] and "params" in front
    assert "| fast |" in (tmp_path / "pareto.md").read_text()
    assert "![Pareto front](figures/pareto.png)" in text and (tmp_path / "figures" / "pareto.png").stat().st_size > 0
    assert "3 feasible trial(s) on the front, of 4 feasible, params <= 200000, latency_ms <= 2" in text
    assert "1 infeasible" in text  # the overview counts kinds of status


def test_retraining_takes_members_spread_along_the_front_best_first_objective_first(tmp_path):
    spec = experiment(tmp_path)
    table = trial_table(tmp_path, spec.search, spec.resolver())
    assert retrain_trials(table, spec.search.goals, spec.retrain.top_k) == ["accurate", "fast"]  # top_k 2: both ends of the front
    one = load_spec(tmp_path / "space.yaml", {"retrain.top_k": 1})
    assert retrain_trials(table, one.search.goals, one.retrain.top_k) == [
        "accurate"
    ]  # best/: the best first objective among feasible trials
    single = load_spec(tmp_path / "space.yaml", {"search.objectives": None, "search.metric": "val_robust_f1", "retrain.top_k": 9})
    assert "huge" not in retrain_trials(
        trial_table(tmp_path, single.search, single.resolver()), single.search.goals, single.retrain.top_k
    )  # an infeasible trial is never retrained
