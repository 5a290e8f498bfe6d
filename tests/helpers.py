"""What the tests share: the repository's paths and the ways to run a command as a user would."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import psutil
import pytest
import torch
import yaml

from data_utils.preprocess import Preprocessor, audio_shape
from models.classifier import build_model
from search.results.folder import JOURNAL_FILE, ExperimentFolder
from search.run import main
from search.runtime.journal import TUNE_ID, journal_storage
from search.space.spec import parse_trial_config

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "datasets" / "avdigits"
SPACES = ROOT / "spaces"


def run_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` from the repository root, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


class TrackedCommand:
    """``python -m <args>`` run as a user would, recording every process it starts (Ray's raylet, GCS,
    dashboard, workers: its descendants), so a test can prove that none outlives it."""

    def __init__(self, *args: str, log: Path, env: dict[str, str] | None = None) -> None:

        self.log = log
        with open(log, "w") as out:
            # A session of its own, as a terminal gives a command: Ctrl-C reaches its whole process group.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        self.started: dict[int, psutil.Process] = {}
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()

    def _watch(self) -> None:
        import psutil

        root = psutil.Process(self.proc.pid)
        while self.proc.poll() is None:
            try:
                for child in root.children(recursive=True):
                    self.started.setdefault(child.pid, child)
            except psutil.NoSuchProcess:
                return
            threading.Event().wait(0.2)

    def interrupt(self) -> None:
        """Ctrl-C at the terminal: SIGINT to every process of the command's group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def terminate(self) -> None:
        """SIGTERM to the command alone, as `timeout` sends it (SLURM and Kubernetes send it to every process)."""
        os.kill(self.proc.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the command alone, as the kernel's OOM killer or `kill -9` sends it: no clean-up at all."""
        os.kill(self.proc.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self.watcher.join()
        return code

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        """SIGTERM to everything the command started (how `ray stop` ends a node's processes), then the
        command itself, which `ray start --block` does not end on SIGTERM, is killed."""
        import psutil

        children = [p for p in self.started.values() if p.is_running()]
        for p in children:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(children, timeout=15)
        self.proc.kill()
        self.proc.wait(30)
        self.watcher.join()

    def left_behind(self, grace_s: float = 30.0) -> list[str]:
        """The processes it started that are still running ``grace_s`` after it exited (then killed)."""
        import psutil

        _, alive = psutil.wait_procs(list(self.started.values()), timeout=grace_s)
        left = []
        for p in alive:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:  # exited; only its (dead) parent never reaped it
                    left.append(" ".join(p.cmdline()[:3]))
                    p.kill()
            except psutil.NoSuchProcess:
                pass
        return left


SMOKE = str(SPACES / "smoke.yaml")


PATHS = ["in_process", "distributed"]  # how one-worker trials run: in their Tune trial's process, or as Train runs


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
    space = yaml.safe_load(Path(SMOKE).read_text())
    space["retrain"] = {"top_k": 0}
    (tmp / "smoke.yaml").write_text(yaml.safe_dump(space, sort_keys=False))
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


def on_path(space: str | Path, path: str, tmp_path: Path) -> str:
    """``space`` with its trials run on ``path`` (a copy in ``tmp_path`` for the distributed one)."""
    if path == "in_process":
        return str(space)
    raw = yaml.safe_load(Path(space).read_text())
    raw.setdefault("resources", {})["distributed"] = True
    out = tmp_path / f"distributed-{Path(space).name}"
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(out)


def search(tmp_path: Path, *args: str, path: str = "in_process") -> pd.DataFrame:
    code = main([on_path(SMOKE, path, tmp_path), "--results", str(tmp_path), *args])
    assert code == 0
    return ExperimentFolder(tmp_path / "smoke").read_leaderboard()


def space_without_early_stopping(tmp_path: Path) -> str:
    raw = yaml.safe_load(Path(SMOKE).read_text())
    raw["scheduler"] = {"name": "none", "max_t": 3}
    raw["retrain"] = {"top_k": 0}
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


def epochs_reported(trial_dir: Path) -> list[int]:
    return [json.loads(line)["epoch"] for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]


def dataset_managers(dashboard: str) -> set[str]:
    """The ids of the Ray Data actors (``DatasetManager``) a cluster has started, alive or dead."""
    from ray.util.state import list_actors

    return {a.actor_id for a in list_actors(address=dashboard, filters=[("class_name", "=", "DatasetManager")], limit=10_000)}


def listening_addresses(pids: set[int]) -> set[str]:
    return {c.laddr.ip for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN and c.pid in pids}


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback  # ::ffff:127.0.0.1 is loopback too


def external_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (none in `make test`'s network namespace)."""
    return [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]


def accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


SMALL_MODEL = {
    "image": {"name": "cnn", "channels": [8, 16], "kernels": [3, 3], "fc": [32]},
    "audio": {"name": "gru", "hidden": 16},
    "fusion": {"name": "concat"},
}


KAGGLE_TRAIN = ("x_train_wr", "x_train_sp", "y_train")


KAGGLE_TEST = ("x_test_wr", "x_test_sp", "y_test")


def save_kaggle(folder: Path, dataset, *, test: bool = True, test_labels: bool = True) -> Path:
    """The demo arrays under the Kaggle file names."""
    folder.mkdir()
    arrays = dict(zip(KAGGLE_TRAIN, (dataset.train.images, dataset.train.audio, dataset.train.labels)))
    if test:
        arrays.update(zip(KAGGLE_TEST, (dataset.test.images, dataset.test.audio, dataset.test.labels)))
        if not test_labels:
            del arrays["y_test"]
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)
    return folder


TINY_MODEL = {"image": {"name": "mlp", "fc": [16]}, "audio": {"name": "gru", "hidden": 8}, "fusion": {"name": "concat"}}


def untrained(demo, layout: str, image_scaling: str = "unit", fusion: str = "concat", rows: int = 64):
    """A config, a randomly initialized model and a preprocessor fitted on a few demo rows."""
    model = {**TINY_MODEL, "fusion": {"name": fusion}}
    config = parse_trial_config({"model": model, "preprocess": {"audio_layout": layout, "image_scaling": image_scaling}})
    torch.manual_seed(0)
    model = build_model(config.model, audio_shape(layout)).eval()
    split = demo.train
    pre = Preprocessor.fit(config.preprocess, torch.from_numpy(split.images[:rows]), torch.from_numpy(split.audio[:rows]))
    return config, model, pre


def assert_quiet(out: str, root: Path) -> None:
    """The console holds the search's own lines; Ray's and Tune's are in the experiment's log, which it names."""
    for noise in ("Configuration for experiment", "(raylet)", "WARNING", "To visualize your results", "/tmp/ray/session"):
        assert noise not in out, noise
    assert f"Ray's and Tune's own output: {root / 'ray.log'}" in out
    assert "Configuration for experiment" in (root / "ray.log").read_text()
    assert f"optuna-dashboard {root / 'optuna.journal'}" in out
    assert "Ray dashboard: http://127.0.0.1:" in out


STATES = {"completed": "COMPLETE", "failed": "FAIL"}  # any other leaderboard status: stopped early, PRUNED


def assert_journal_matches_leaderboard(root: Path, trials: pd.DataFrame, name: str = "smoke") -> None:
    """The experiment's journal opens with optuna.load_study and holds the leaderboard's trials, in the same
    states, each with its search metric per epoch and, complete, its best value."""
    study = optuna.load_study(study_name=name, storage=journal_storage(root / JOURNAL_FILE))
    by_tune = {t.user_attrs[TUNE_ID]: t for t in study.get_trials()}
    assert len(study.trials) == len(trials) == len(by_tune)
    for row in trials.to_dict("records"):
        t = by_tune[row["trial_id"]]
        assert t.state.name == STATES.get(row["status"], "PRUNED"), (row["status"], t.state)
        # every epoch the trial reported, one reported right at an interruption too (search.runtime.journal.backfill)
        assert set(t.intermediate_values) == set(range(1, int(row["epochs"]) + 1))
        if t.state.name == "COMPLETE":
            assert t.value == pytest.approx(row["val_f1"])
        assert t.params["model.fusion.name"] == row["hp.model.fusion.name"]
        assert t.params["train.lr"] == row["hp.train.lr"]
