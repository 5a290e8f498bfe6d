"""Two local searches at once on one machine (two terminals, two experiments): both run to the end, ASHA
stopping trials, and nothing is left behind.

Each search starts its own local Ray cluster, and Ray 2.60 gives every node's dashboard agent the same fixed
HTTP port (52365) with no `ray.init` setting for it: the second cluster's agent cannot bind it, says so in
its log and stays up without its HTTP service (ray/dashboard/agent.py), which a search does not use (the
placement-group cleaner's State API is the dashboard's, on a port of each cluster's own). Slow tier:
`pytest -m long`; `bench/two_searches.py` prints the same run's figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import ROOT, TrackedCommand

pytestmark = [pytest.mark.ray, pytest.mark.long]


@dataclass
class Outcome:
    name: str
    code: int
    seconds: float
    statuses: list[str]
    left_behind: list[str]
    output: str


def side_by_side(tmp: Path, trials: int = 4, epochs: int = 4, gap_s: float = 3.0) -> list[Outcome]:
    """Two ASHA searches of smoke.yaml (no retraining) started ``gap_s`` apart, each with its own cluster."""
    space = yaml.safe_load((ROOT / "spaces" / "smoke.yaml").read_text())
    space["retrain"] = {"top_k": 0}
    (tmp / "smoke.yaml").write_text(yaml.safe_dump(space))
    runs, started = {}, {}
    for name in ("first", "second"):
        runs[name] = TrackedCommand(
            "search.run",
            str(tmp / "smoke.yaml"),
            "--name",
            name,
            "--results",
            str(tmp),
            "--num-samples",
            str(trials),
            "--max-epochs",
            str(epochs),
            log=tmp / f"{name}.log",
        )
        started[name] = time.monotonic()
        time.sleep(gap_s)
    out = []
    for name, run in runs.items():
        code = run.wait(timeout=1200)
        seconds = time.monotonic() - started[name]
        board = tmp / name / "leaderboard.csv"
        statuses = pd.read_csv(board)["status"].tolist() if board.is_file() else []
        out.append(Outcome(name, code, seconds, statuses, run.left_behind(), run.output()))
    return out


def test_two_searches_at_once_both_finish_with_early_stopping_and_leave_nothing(tmp_path):
    for run in side_by_side(tmp_path):
        assert run.code == 0, run.output  # exit 1 would mean resources still held at the end
        assert len(run.statuses) == 4, run.statuses
        assert any(s.startswith("stopped early") for s in run.statuses), run.statuses
        assert not run.left_behind
