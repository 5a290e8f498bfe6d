"""Ctrl-C during a search: a clean stop (exit 130, the resume command printed, no Ray process left), then
--resume finishes the same experiment, again leaving no process behind."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TrackedCommand
from tests.search.test_search_ray import search_trials

pytestmark = pytest.mark.ray


def quick_space(tmp_path: Path) -> str:
    """smoke.yaml without retraining: the search's own stop and resume are under test."""
    raw = yaml.safe_load((ROOT / "spaces" / "smoke.yaml").read_text())
    raw["retrain"] = {"top_k": 0}
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def reported_epochs(tune_dir: Path) -> int:
    return sum(len(f.read_text().splitlines()) for f in tune_dir.glob("*/result.json"))


def test_ctrl_c_stops_cleanly_and_resume_finishes_the_experiment(tmp_path):
    space = quick_space(tmp_path)
    args = ["search.run", space, "--results", str(tmp_path), "--num-samples", "3", "--max-epochs", "3"]
    root = tmp_path / "smoke"
    first = TrackedCommand(*args, log=tmp_path / "first.log")
    deadline = time.monotonic() + 300
    while reported_epochs(root / "tune") < 2:
        assert first.proc.poll() is None, first.output()
        assert time.monotonic() < deadline, "no trial reported in time"
        time.sleep(0.3)
    first.interrupt()
    assert first.wait(timeout=120) == 130, first.output()
    out = first.output()
    assert "Traceback" not in out
    assert f"continue with: python -m search.run {space} --name smoke --results {tmp_path} --resume" in out
    assert not first.left_behind()
    # what finished is on the leaderboard; an interrupted search is not retrained
    assert (root / "leaderboard.csv").is_file()
    assert not (root / "retrain.json").exists()
    before = {f.parent.name: f.read_text().splitlines() for f in (root / "tune").glob("*/result.json")}

    second = TrackedCommand(*args, "--resume", log=tmp_path / "second.log")
    assert second.wait(timeout=400) == 0, second.output()
    assert not second.left_behind()
    table = search_trials(root)
    assert len(table) == 3
    assert table["status"].str.match(r"completed|stopped early").all(), table["status"].tolist()
    for trial_id, lines in before.items():  # epochs reported before Ctrl-C are kept, not trained again
        epochs = [json.loads(line)["epoch"] for line in (root / "tune" / trial_id / "result.json").read_text().splitlines()]
        assert epochs[: len(lines)] == [json.loads(line)["epoch"] for line in lines]
        assert epochs == sorted(set(epochs))
    assert (root / "report.md").is_file()
