"""A real, tiny multi-objective search under a limit: the infeasible trial, the front, the exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from search.results.folder import ExperimentFolder
from search.run import main
from tests.helpers import SMOKE

pytestmark = pytest.mark.ray
LIMIT = 50_000  # parameters: smoke.yaml's gated fusion has 71,722, its other fusions under 30,000


def test_multi_objective_search_with_a_limit(ray_cluster, tmp_path):
    raw = yaml.safe_load(Path(SMOKE).read_text())
    raw["name"] = "pareto"
    # One trial per fusion (presets: what a sampler draws varies between runs); Optuna's side: test_objectives.py
    raw["search"] = {
        "objectives": {"val_f1": "max", "latency_ms": "min"},
        "constraints": {"params": LIMIT},
        "num_samples": 1,
        "max_concurrent_trials": 2,
    }
    raw["scheduler"] = {"name": "asha", "max_t": 2, "grace_period": 1, "reduction_factor": 2}
    raw["retrain"] = {"top_k": 2, "seeds": 1, "ablation": False, "export": "front"}
    del raw["space"]
    raw["presets"] = {fusion: {"model": {"fusion": {"name": fusion}}} for fusion in ("gated", "concat", "late")}
    path = tmp_path / "pareto.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))  # the objectives in order: the first is what best/ means
    assert main([str(path), "--results", str(tmp_path)]) == 0
    root = tmp_path / "pareto"
    table = ExperimentFolder(root).read_leaderboard()
    gated = table["hp.model.fusion.name"] == "gated"
    assert gated.sum() == 1 and len(table) == 3
    # a model over the limit is measured, never trained, and listed with why
    for row in table[gated].itertuples():
        assert (
            row.status == f"infeasible: params {int(row.params):,} > {LIMIT:,}" and row.epochs == 0
        )  # (read as floats: retrained rows have none)
        reported = [json.loads(line) for line in (root / "tune" / row.trial_id / "result.json").read_text().splitlines()]
        assert [r["epoch"] for r in reported] == [0]
    # every other trial trained, reporting every objective; the leaderboard has a column for each
    trained = table[~gated]
    assert (trained["epochs"] >= 1).all() and trained[["val_f1", "latency_ms", "params"]].notna().all().all()
    assert (trained["params"] <= LIMIT).all() and (trained["latency_ms"] > 0).all()
    header = (root / "leaderboard.md").read_text().split("## Search trials")[-1].strip().splitlines()[0]
    assert all(f" {c} " in header for c in ("front", "val_f1", "latency_ms", "params"))
    # pareto.csv: the feasible non-dominated trials, with every objective
    front = ExperimentFolder(root).read_front()
    assert set(front["trial_id"]) == set(table[table["front"] == 1]["trial_id"]) and set(front["trial_id"]) <= set(
        trained["trial_id"]
    )
    assert {"val_f1", "latency_ms"} <= set(front.columns)
    assert "![Pareto front](figures/pareto.png)" in (root / "report.md").read_text()
    # retrained: members of the front, best val_f1 first (best/), each exported under pareto/
    retrained = json.loads((root / "retrain.json").read_text())
    sources = [g["source"] for g in retrained["configs"]]
    assert (
        set(sources) <= set(front["trial_id"]) and sources[0] == front.sort_values("val_f1", ascending=False)["trial_id"].iloc[0]
    )
    assert json.loads((root / "best" / "metrics.json").read_text())["source_trial"] == sources[0]
    for source in sources:
        assert (root / "pareto" / source / "model.ts").is_file()
