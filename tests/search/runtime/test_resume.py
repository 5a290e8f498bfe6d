"""Kill the driver of a running search with SIGKILL, then --resume it: nothing completed is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers import ROOT, run_cli, search_trials, space_without_early_stopping

pytestmark = [pytest.mark.ray, pytest.mark.slow]
EPOCHS = 3


def completed_trials(tune_dir: Path) -> dict[str, list[int]]:
    """{trial id: epochs reported} for the trials that reached the last epoch."""
    done = {}
    for result in tune_dir.glob("*/result.json"):
        epochs = [json.loads(line)["epoch"] for line in result.read_text().splitlines() if line.strip()]
        if EPOCHS in epochs:
            done[result.parent.name] = epochs
    return done


def test_resume_after_the_driver_is_killed_loses_no_completed_trial(tmp_path):
    log = open(tmp_path / "first.log", "w")
    # No early stopping and no retraining: every trial runs all its epochs, so two complete while others
    # still run (with ASHA, the search could end before a second trial completes).
    args = [space_without_early_stopping(tmp_path), "--results", str(tmp_path), "--num-samples", "4"]
    driver = subprocess.Popen([sys.executable, "-m", "search.run", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    tune_dir = tmp_path / "smoke" / "tune"
    deadline = time.monotonic() + 300
    while len(completed_trials(tune_dir)) < 2:
        assert driver.poll() is None, (tmp_path / "first.log").read_text()
        assert time.monotonic() < deadline, "no trial completed in time"
        time.sleep(0.5)
    time.sleep(1.5)  # the experiment state is saved every second
    before = completed_trials(tune_dir)
    started = psutil.Process(driver.pid).children(recursive=True)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()

    resumed = run_cli("search.run", *args, "--resume", timeout=400)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # the local Ray cluster the killed driver started went down with it (its agents notice within a
    # minute that their raylet is gone): no process left behind
    _, alive = psutil.wait_procs(started, timeout=60)
    left = [" ".join(p.cmdline()[:2]) for p in alive if p.is_running()]
    for proc in alive:
        proc.kill()
    assert not left, left
    table = search_trials(tmp_path / "smoke")
    assert len(table) == 4
    assert set(before) <= set(table["trial_id"])
    for trial_id, epochs in before.items():
        row = table[table["trial_id"] == trial_id].iloc[0]
        assert row["status"] == "completed"
        assert completed_trials(tune_dir)[trial_id] == epochs  # kept, not trained again
    assert table["status"].ne("failed").all()
