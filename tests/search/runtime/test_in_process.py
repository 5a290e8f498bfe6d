"""Trials that train in their Tune trial's process (search.runtime.trial_session): Tune reuses the process for the next
trial, which must inherit nothing from the one before, and the data is read from the object store once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from search.api import load_splits
from search.results.folder import ExperimentFolder, read_history
from search.run import main
from search.runtime import trial_session
from search.space.spec import load_spec, parse_trial_config
from tests.helpers import space_without_early_stopping
from training.trainer import train

# Reported every epoch, less the seconds it took (the machine's pace).
COMPARED = ("train_loss", "val_loss", "val_accuracy", "val_f1", "val_robust_f1", "lr", "params")


@pytest.mark.ray
def test_trials_that_share_a_process_give_the_metrics_of_fresh_processes(ray_cluster, tmp_path):
    raw = yaml.safe_load(Path(space_without_early_stopping(tmp_path)).read_text())
    del raw["space"]
    # Different models, optimizers and seeds, one at a time: Tune hands each next trial the same process.
    raw["presets"] = {
        "late": {"model": {"fusion": {"name": "late"}}, "train": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9}},
        "gated": {"model": {"fusion": {"name": "gated"}}, "train": {"lr": 0.003}},
        "attention": {"model": {"fusion": {"name": "attention"}}, "train": {"seed": 3}},
    }
    raw["search"].update(num_samples=1, max_concurrent_trials=1)
    raw["scheduler"]["max_t"] = 2
    space = tmp_path / "shared.yaml"
    space.write_text(yaml.safe_dump(raw))
    assert main([str(space), "--results", str(tmp_path / "out")]) == 0

    root = tmp_path / "out" / "smoke"
    table = ExperimentFolder(root).read_leaderboard()
    histories = {row.trial_id: read_history(root / "tune" / row.trial_id) for row in table.itertuples()}
    pids = {h[0]["pid"] for h in histories.values()}
    assert len(pids) < len(histories), pids  # trials did share a process
    # one at a time, as search.max_concurrent_trials says (on two CPUs): each started after the one before had
    # trained its epochs (from the moment it was ready to train: a lower bound on its end)
    spans = sorted((h[0]["t_driver"], h[0]["t_ready"] + sum(r["seconds"] for r in h)) for h in histories.values())
    assert all(start >= end for (_, end), (start, _) in zip(spans, spans[1:])), spans
    for row in table.itertuples():
        assert Path(row.checkpoint).parent == root / "tune" / row.trial_id  # Tune's checkpoint, not Train's

    # each trial again, alone in this process, with the trial's one thread
    spec = load_spec(space)
    splits = load_splits(spec)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for trial_id, history in histories.items():
            sampled = json.loads((root / "tune" / trial_id / "params.json").read_text())
            fresh = train(parse_trial_config(spec.trial_config(sampled)), splits["train"], splits["val"]).history
            assert [{k: r[k] for k in COMPARED} for r in history] == [{k: r[k] for k in COMPARED} for r in fresh], trial_id
    finally:
        torch.set_num_threads(threads)


class FakeRef:
    def __init__(self, key: str) -> None:
        self.key = key

    def hex(self) -> str:
        return self.key


def test_a_process_reads_the_data_once_per_object(monkeypatch):
    fetched = []
    monkeypatch.setattr(trial_session, "_data", None)
    monkeypatch.setattr(trial_session.ray, "get", lambda ref: fetched.append(ref.key) or {"from": ref.key})
    a, b = FakeRef("a"), FakeRef("b")
    assert [trial_session.get_data(r)["from"] for r in (a, FakeRef("a"), a, b, b, a)] == ["a", "a", "a", "b", "b", "a"]
    assert fetched == ["a", "b", "a"]  # only the last object is kept: a new search's data replaces the old
