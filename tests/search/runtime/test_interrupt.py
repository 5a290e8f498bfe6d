"""Ctrl-C, then SIGTERM, then SIGKILL, during one search (its cluster closed to the network while it runs): the
first two each a clean stop (exit 130, then 143, the resume command printed, no Ray process left, a quiet
console), the third no stop at all; each time --resume goes on with the same experiment, and the last one
finishes it: nothing completed is lost or trained again, and no process is left behind, the killed driver's
cluster included."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from search.results.folder import ExperimentFolder
from tests.helpers import (
    TrackedCommand,
    accepts,
    assert_journal_matches_leaderboard,
    assert_quiet,
    epochs_reported,
    external_addresses,
    is_loopback,
    listening_addresses,
    space_without_early_stopping,
)

pytestmark = [pytest.mark.ray, pytest.mark.slow]
EPOCHS = 3  # space_without_early_stopping: every trial runs them all, and retraining is off
TRIALS = 6


def reported(tune_dir: Path) -> dict[str, list[int]]:
    """{trial id: epochs reported}."""
    return {f.parent.name: epochs_reported(f.parent) for f in tune_dir.glob("*/result.json")}


def total_epochs(tune_dir: Path) -> int:
    return sum(map(len, reported(tune_dir).values()))


def completed(tune_dir: Path) -> dict[str, list[int]]:
    return {trial: epochs for trial, epochs in reported(tune_dir).items() if EPOCHS in epochs}


def wait_until(cmd: TrackedCommand, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 300
    while not ready():
        assert cmd.proc.poll() is None, cmd.output()
        assert time.monotonic() < deadline, "the search did not get there in time"
        time.sleep(0.3)


def assert_closed_to_the_network(search: TrackedCommand) -> None:
    """The local cluster a running search started listens on 127.0.0.1 only (GCS, raylet, object manager,
    dashboard and its agent, workers), and its dashboard answers no request without the cluster's token."""
    port = int(re.search(r"Ray dashboard: http://127\.0\.0\.1:(\d+)", search.output())[1])
    listening = listening_addresses(set(search.started.copy()) | {search.proc.pid})  # a copy: its watcher adds to it
    assert len(listening) >= 1 and all(is_loopback(a) for a in listening), listening
    assert accepts("127.0.0.1", port) and not any(accepts(a, port) for a in external_addresses())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/jobs/", timeout=10)
    assert refused.value.code in (401, 403)


def test_ctrl_c_sigterm_and_sigkill_stop_the_search_and_resume_finishes_the_experiment(tmp_path):
    space = space_without_early_stopping(tmp_path)
    args = ["search.run", space, "--results", str(tmp_path), "--num-samples", str(TRIALS)]
    root = tmp_path / "smoke"
    tune = root / "tune"
    first = TrackedCommand(*args, log=tmp_path / "first.log")
    wait_until(first, lambda: total_epochs(tune) >= 2)
    assert_closed_to_the_network(first)
    first.interrupt()
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
    before_ctrl_c = reported(tune)

    # SIGTERM, as `timeout` sends it, stops the resumed search the same way, with the code a SIGTERM gives
    second = TrackedCommand(*args, "--resume", log=tmp_path / "second.log")
    target = total_epochs(tune) + 2
    wait_until(second, lambda: total_epochs(tune) >= target)
    second.terminate()
    assert second.wait(timeout=120) == 143, second.output()
    out = second.output()
    assert "Traceback" not in out
    assert f"terminated: results so far in {root}; continue with: python -m search.run {space} --name smoke" in out
    assert "SIGTERM received" not in out + (root / "ray.log").read_text()  # no C++ stack dump, anywhere
    assert not second.left_behind()

    # SIGKILL once another trial has completed (and the experiment state, saved every second, holds it)
    third = TrackedCommand(*args, "--resume", log=tmp_path / "third.log")
    done = len(completed(tune))
    wait_until(third, lambda: len(completed(tune)) > done)
    before_kill = completed(tune)
    time.sleep(3)  # the experiment state, saved every second, holds these as completed by now
    third.kill()
    third.proc.wait(30)
    at_kill = reported(tune)
    assert len(before_kill) < TRIALS, "every trial completed before the kill: nothing left to resume"
    # The clean stops (Ctrl-C, SIGTERM) saved the experiment, each trial with its last checkpoint, so a resumed
    # trial went on from there: after each epoch comes the next, or, once, the same epoch again. Tune logs an
    # epoch's result, then asks the trial for its checkpoint (a second round trip): a stop between the two saves
    # the state without that checkpoint, and the resumed trial trains that epoch again.
    for trial_id, epochs in at_kill.items():
        steps = list(zip(epochs, epochs[1:]))
        assert epochs[:1] in ([], [1]) and all(b in (a, a + 1) for a, b in steps), (trial_id, epochs)  # [] just started
        assert sum(a == b for a, b in steps) <= 2, (trial_id, epochs)  # at most once per clean stop

    last = TrackedCommand(*args, "--resume", log=tmp_path / "last.log")
    assert last.wait(timeout=400) == 0, last.output()
    assert not last.left_behind()
    # the local Ray cluster the killed driver started went down with it (its agents notice within a minute
    # that their raylet is gone)
    assert not third.left_behind(grace_s=60)

    table = ExperimentFolder(root).read_leaderboard()
    assert len(table) == TRIALS
    assert (table["status"] == "completed").all(), table["status"].tolist()
    after = reported(tune)
    for trial_id, epochs in before_kill.items():
        assert after[trial_id] == epochs  # kept, not trained again
    for trial_id, epochs in before_ctrl_c.items():  # epochs reported before Ctrl-C are kept, not trained again
        assert after[trial_id][: len(epochs)] == epochs
    # A trial running at the SIGKILL goes on from the last checkpoint of the experiment state Tune saved before it
    # (every second; a killed driver saves nothing): an epoch it reported in that last second is trained and
    # reported again. Every trial ends with each epoch once, in order, after what it had reported.
    for trial_id, epochs in after.items():
        kept, resumed = epochs[: len(at_kill.get(trial_id, []))], epochs[len(at_kill.get(trial_id, [])) :]
        assert kept == at_kill.get(trial_id, []) and resumed == list(range(EPOCHS + 1 - len(resumed), EPOCHS + 1)), epochs
        assert sorted(set(epochs)) == list(range(1, EPOCHS + 1)), (trial_id, epochs)
    assert (root / "report.md").is_file()
    assert_journal_matches_leaderboard(root, table)  # trials running at each stop went on in the same Optuna trials
