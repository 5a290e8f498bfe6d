"""The leaderboard ranks by val_robust_f1 when the space asks for it, and reads experiments that predate it."""

from __future__ import annotations

import json
from pathlib import Path

from search.results.folder import TUNE_DIR
from search.results.leaderboard import markdown, trial_table
from search.space.spec import load_spec

SMOKE = Path(__file__).resolve().parents[3] / "spaces" / "smoke.yaml"


def write_trial(root: Path, trial_id: str, rows: list[dict]) -> None:
    """A trial folder as Ray Tune leaves it: its sampled parameters and one JSON line per epoch."""
    folder = root / TUNE_DIR / trial_id
    folder.mkdir(parents=True)
    (folder / "params.json").write_text(json.dumps({"model.fusion.name": "concat", "train.lr": 1e-3}))
    (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))


def epoch(n: int, f1: float, robust: float | None = None) -> dict:
    row = {"epoch": n, "val_f1": f1, "val_accuracy": f1, "val_loss": 1 - f1}
    return row if robust is None else {**row, "val_robust_f1": robust}


def test_ranks_by_val_robust_f1_and_shows_it(tmp_path):
    spec = load_spec(SMOKE, {"search.metric": "val_robust_f1"})
    write_trial(tmp_path, "accurate", [epoch(1, 0.95, 0.40), epoch(2, 0.97, 0.45)])
    write_trial(tmp_path, "robust", [epoch(1, 0.90, 0.70), epoch(2, 0.92, 0.60)])
    table = trial_table(tmp_path, spec.search, spec.resolver())
    assert table["trial_id"].tolist() == ["robust", "accurate"]
    assert table[["best_epoch", "val_robust_f1", "val_f1"]].values.tolist()[0] == [1, 0.70, 0.90]  # the best epoch's
    assert "val_robust_f1" in markdown(table, spec.search.metric).splitlines()[0]


def test_an_experiment_from_before_val_robust_f1_still_gets_its_leaderboard(tmp_path):
    spec = load_spec(SMOKE)
    write_trial(tmp_path, "old", [epoch(1, 0.9), epoch(2, 0.95)])
    table = trial_table(tmp_path, spec.search, spec.resolver())
    assert table["val_f1"].tolist() == [0.95] and "val_robust_f1" not in table
    assert "val_robust_f1" not in markdown(table, spec.search.metric)
