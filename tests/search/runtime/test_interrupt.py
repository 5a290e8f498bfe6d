"""Ctrl-C, then SIGTERM, during a search: each a clean stop (exit 130, then 143, the resume command printed, no
Ray process left, a quiet console), then --resume finishes the same experiment, again leaving no process behind."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, TrackedCommand, assert_journal_matches_leaderboard, assert_quiet, search_trials

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def quick_space(tmp_path: Path) -> str:
    """smoke.yaml without retraining: the search's own stop and resume are under test."""
    raw = yaml.safe_load((ROOT / "spaces" / "smoke.yaml").read_text())
    raw["retrain"] = {"top_k": 0}
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def reported_epochs(tune_dir: Path) -> int:
    return sum(len(f.read_text().splitlines()) for f in tune_dir.glob("*/result.json"))


def stop_when(cmd: TrackedCommand, root: Path, epochs: int, stop: str) -> None:
    """``stop`` ("interrupt": Ctrl-C, "terminate": SIGTERM) the search once its trials have reported ``epochs`` epochs."""
    deadline = time.monotonic() + 300
    while reported_epochs(root / "tune") < epochs:
        assert cmd.proc.poll() is None, cmd.output()
        assert time.monotonic() < deadline, "no trial reported in time"
        time.sleep(0.3)
    getattr(cmd, stop)()


def test_ctrl_c_and_sigterm_stop_cleanly_and_resume_finishes_the_experiment(tmp_path):
    space = quick_space(tmp_path)
    args = ["search.run", space, "--results", str(tmp_path), "--num-samples", "4", "--max-epochs", "3"]
    root = tmp_path / "smoke"
    first = TrackedCommand(*args, log=tmp_path / "first.log")
    stop_when(first, root, 2, "interrupt")
    assert first.wait(timeout=120) == 130, first.output()
    out = first.output()
    assert "Traceback" not in out
    assert (
        f"interrupted: results so far in {root}; continue with: python -m search.run {space} --name smoke --results {tmp_path} --resume"
        in out
    )
    assert_quiet(out, root)
    assert not first.left_behind()
    # what finished is on the leaderboard; an interrupted search is not retrained
    assert (root / "leaderboard.csv").is_file()
    assert not (root / "retrain.json").exists()
    before = {f.parent.name: f.read_text().splitlines() for f in (root / "tune").glob("*/result.json")}

    # SIGTERM, as `timeout` sends it, stops the resumed search the same way, with the code a SIGTERM gives
    second = TrackedCommand(*args, "--resume", log=tmp_path / "second.log")
    stop_when(second, root, reported_epochs(root / "tune") + 2, "terminate")
    assert second.wait(timeout=120) == 143, second.output()
    out = second.output()
    assert "Traceback" not in out
    assert f"terminated: results so far in {root}; continue with: python -m search.run {space} --name smoke" in out
    assert "SIGTERM received" not in out + (root / "ray.log").read_text()  # no C++ stack dump, anywhere
    assert not second.left_behind()

    third = TrackedCommand(*args, "--resume", log=tmp_path / "third.log")
    assert third.wait(timeout=400) == 0, third.output()
    assert not third.left_behind()
    table = search_trials(root)
    assert len(table) == 4
    assert table["status"].str.match(r"completed|stopped early").all(), table["status"].tolist()
    for trial_id, lines in before.items():  # epochs reported before Ctrl-C are kept, not trained again
        epochs = [json.loads(line)["epoch"] for line in (root / "tune" / trial_id / "result.json").read_text().splitlines()]
        assert epochs[: len(lines)] == [json.loads(line)["epoch"] for line in lines]
        assert epochs == sorted(set(epochs))
    assert (root / "report.md").is_file()
    assert_journal_matches_leaderboard(root, table)  # trials running at each stop went on in the same Optuna trials
