"""End-to-end searches on a real (two-node, one machine) Ray cluster: ASHA, no leak, faults, placement, on both
ways a one-worker trial runs: in its Tune trial's process (the default) and as a distributed Train run
(``resources.distributed: true``), whose placement groups, checkpoints and retries are Train's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import ray
import torch
import yaml

from data_utils import make_demo_dataset
from search.results.folder import ExperimentFolder
from search.run import main
from search.runtime.budget import UNITS
from search.runtime.cluster import leaked_resources
from tests.helpers import (
    ROOT,
    SMOKE,
    assert_journal_matches_leaderboard,
    epochs_reported,
    on_path,
    search,
    space_without_early_stopping,
)
from training.trainer import evaluate, to_device

pytestmark = pytest.mark.ray
FUSIONS = ("late", "add", "gated", "concat")
LEARNING_THEN_NOT = {"add": 3e-3, "concat": 3e-3, "late": 1e-6}  # fusion -> lr, in the presets' order


def test_asha_stops_trials_early_without_hang_or_leak_and_uses_both_nodes(ray_cluster, tmp_path):
    table = search(tmp_path, "--num-samples", "6", "--max-epochs", "4")
    assert len(table) == 6
    assert table["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table["val_f1"].is_monotonic_decreasing
    statuses = table["status"].tolist()
    assert any(s.startswith("stopped early") for s in statuses), statuses
    assert "completed" in statuses
    root = tmp_path / "smoke"
    assert_a_finished_search(root, table, retrained_variants=["fused", "image_only", "audio_only"])
    assert_journal_matches_leaderboard(root, table)


def assert_a_finished_search(root: Path, table: pd.DataFrame, retrained_variants: list[str]) -> None:
    """What every finished search holds, whichever way its trials ran: no resource held, a leaderboard that
    matches what Ray recorded, TensorBoard logs, trials on both nodes of the cluster and, with
    ``retrained_variants``, the best config retrained, evaluated on the test set and exported."""
    assert table["val_f1"].notna().all()
    # the best epoch and its checkpoint, not the last report, make a trial's score
    for row in table.itertuples():
        assert 1 <= row.best_epoch <= row.epochs
        assert Path(row.checkpoint).is_dir()
    assert not leaked_resources(timeout_s=5)
    assert ray.available_resources().get("CPU") == ray.cluster_resources().get("CPU") == 2
    # the leaderboard matches what Ray recorded for each trial
    for row in table.itertuples():
        reported = [json.loads(line) for line in (root / "tune" / row.trial_id / "result.json").read_text().splitlines()]
        assert row.val_f1 == max(r["val_f1"] for r in reported)
        assert row.epochs == reported[-1]["epoch"]
        assert row.params == reported[0]["params"] > 0
    n, k = len(table), len(retrained_variants)
    assert len(json.loads((root / "leaderboard.json").read_text())) == k + n  # retrained configs first
    # TensorBoard: per-trial scalars and the HParams plugin's summaries, read back with its own reader
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for row in table.itertuples():
        events = EventAccumulator(str(root / "tensorboard" / row.trial_id))
        events.Reload()
        logged = {e.step: e.value for e in events.Scalars("val_f1")}
        # every epoch Tune saw is logged (a stopped trial's worker may log one more before it stops)
        for line in (root / "tune" / row.trial_id / "result.json").read_text().splitlines():
            reported = json.loads(line)
            assert logged[reported["epoch"]] == pytest.approx(reported["val_f1"])
        assert len(events.Scalars("train_loss")) >= row.epochs
        plugin = events.PluginTagToContent("hparams")
        assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= set(plugin)
        assert b"model.fusion.name" in plugin["_hparams_/session_start_info"]
    # trials ran on both nodes of the cluster
    nodes = set()
    for trial_dir in (root / "tune").iterdir():
        result = trial_dir / "result.json"
        if result.exists():
            nodes |= {json.loads(line)["node_id"] for line in result.read_text().splitlines() if line.strip()}
    assert len(nodes) == 2
    if k:
        assert (root / "leaderboard.md").read_text().count("\n| ") == (1 + k) + (1 + n)  # two tables: header and rows
        assert_retrained_and_exported(root, table, retrained_variants)
    else:
        assert not (root / "retrain.json").exists() and not (root / "best").exists()


def assert_retrained_and_exported(root: Path, table: pd.DataFrame, retrained_variants: list[str]) -> None:
    """The best config retrained (and ablated), evaluated on the held-out test set, exported."""
    k = len(retrained_variants)
    retrained = json.loads((root / "retrain.json").read_text())
    assert retrained["evaluated_on"] == "test"
    assert [g["variant"] for g in retrained["configs"]] == retrained_variants
    assert retrained["configs"][0]["source"] == table["trial_id"][0]
    leaderboard = pd.read_csv(root / "leaderboard.csv", dtype={"rank": str})
    assert leaderboard["rank"].tolist()[:k] == ["retrained"] * k
    # each retrained run's final model, rebuilt from its checkpoint alone, scores what retraining recorded
    runs = ExperimentFolder(root / "retrain")
    test = make_demo_dataset(0).test
    for trial_id in runs.trial_ids():
        row = next(r for r in retrained["runs"] if r["run"] == runs.trial_params(trial_id)["run"])
        model, pre = runs.final_model(trial_id)
        assert evaluate(model, pre, to_device(test, pre, torch.device("cpu")))["f1"] == row["f1"]
    exported = json.loads((root / "best" / "metrics.json").read_text())
    # the TorchScript model, loaded in a fresh process, reproduces the reported test accuracy exactly
    script = (
        "import sys, json, torch; from data_utils import make_demo_dataset; "
        "test = make_demo_dataset(0).test; m = torch.jit.load(sys.argv[1]); "
        "p = m(torch.from_numpy(test.images), torch.from_numpy(test.audio)).argmax(1).numpy(); "
        "print(json.dumps(float((p == test.labels).mean())))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(root / "best" / "model.ts")], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    # (float32 vs float64 division: 1e-6 is far below one sample, 1/360)
    assert json.loads(proc.stdout.splitlines()[-1]) == pytest.approx(exported["accuracy"], abs=1e-6)


def test_distributed_trials_are_stopped_early_retried_from_their_checkpoints_and_leave_nothing_held(ray_cluster, tmp_path):
    """One search on the distributed path (each one-worker trial a Ray Train run) that meets what the in-process
    tests check one by one: ASHA stopping trials with no hang and no placement group left, retries from the Train
    run's checkpoints after an exception and after the worker process is killed. (Retraining and export on the
    distributed path: test_multi_worker.py.)"""
    raw = yaml.safe_load(Path(SMOKE).read_text())
    del raw["space"]
    # Two at a time, in order: two configs that learn (add, concat), then one that cannot (lr 1e-6). ASHA's one rung
    # is at epoch 2 (grace period 2, max_t 3), after the faults, and the one that cannot only starts once a slot
    # frees, after a config that learns has passed the rung: it meets the rung below it and is stopped there,
    # whatever the timing (ASHA's cutoff is the median of the scores recorded there before it).
    raw["presets"] = {f: {"model": {"fusion": {"name": f}}, "train": {"lr": lr}} for f, lr in LEARNING_THEN_NOT.items()}
    raw["search"].update(num_samples=1, max_concurrent_trials=2)
    raw["scheduler"] = {"name": "asha", "max_t": 3, "grace_period": 2, "reduction_factor": 2}
    raw["retrain"] = {"top_k": 0}
    space = tmp_path / "distributed.yaml"
    space.write_text(yaml.safe_dump(raw, sort_keys=False))
    # at the end of epoch 2, before its report: `add` raises once; `concat`'s Train worker process is killed once
    ray_cluster.fault_file.write_text(
        json.dumps(
            [
                {"at_epoch": 2, "times": 1, "match": {"model.fusion.name": "add"}},
                {"at_epoch": 2, "times": 1, "kind": "kill", "match": {"model.fusion.name": "concat"}},
            ]
        )
    )
    try:
        assert main([on_path(space, "distributed", tmp_path), "--results", str(tmp_path / "out")]) == 0
    finally:
        ray_cluster.fault_file.unlink()
    root = tmp_path / "out" / "smoke"
    table = ExperimentFolder(root).read_leaderboard()
    assert len(table) == len(LEARNING_THEN_NOT)
    status = dict(zip(table["hp.model.fusion.name"], table["status"]))
    # retried, resumed from the epoch-1 checkpoint (no epoch trained or reported twice); the first at the rung went on
    for row in table[table["hp.model.fusion.name"].isin(["add", "concat"])].itertuples():
        assert epochs_reported(root / "tune" / row.trial_id) == list(range(1, int(row.epochs) + 1)) and row.epochs >= 2
    assert "completed" in (status["add"], status["concat"])
    assert status["late"] == "stopped early at epoch 2", status
    assert_a_finished_search(root, table, retrained_variants=[])


def one_trial_per_fusion(tmp_path: Path) -> str:
    """smoke.yaml as a grid of presets, one per fusion: exactly one trial of each, whatever a sampler draws."""
    raw = yaml.safe_load(Path(space_without_early_stopping(tmp_path)).read_text())
    del raw["space"]
    raw["presets"] = {fusion: {"model": {"fusion": {"name": fusion}}} for fusion in FUSIONS}
    raw["search"]["num_samples"] = 1  # seeds per preset
    path = tmp_path / "faults.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


# (On the distributed path: the test above. Giving up after the last retry is Tune's, whichever the path.)
def test_failing_killed_and_out_of_memory_trials_are_retried_or_recorded_and_the_search_goes_on(ray_cluster, tmp_path):
    # at epoch 2: the `late` trial raises once; the `add` trial's worker process (in-process: its Tune trial's)
    # is killed once; the `gated` trial raises on every attempt; the `concat` trial runs out of memory on every attempt
    ray_cluster.fault_file.write_text(
        json.dumps(
            [
                {"at_epoch": 2, "times": 1, "match": {"model.fusion.name": "late"}},
                {"at_epoch": 2, "times": 1, "kind": "kill", "match": {"model.fusion.name": "add"}},
                {"at_epoch": 2, "times": -1, "match": {"model.fusion.name": "gated"}},
                {"at_epoch": 2, "times": -1, "kind": "oom", "match": {"model.fusion.name": "concat"}},
            ]
        )
    )
    try:
        assert main([one_trial_per_fusion(tmp_path), "--results", str(tmp_path / "out")]) == 0
    finally:
        ray_cluster.fault_file.unlink()
    table = ExperimentFolder(tmp_path / "out" / "smoke").read_leaderboard()
    assert len(table) == len(FUSIONS)
    by_fusion = dict(list(table.groupby("hp.model.fusion.name")))
    assert set(by_fusion) == set(FUSIONS)
    # retried, resumed from the epoch-1 checkpoint (epoch 1 is not trained or reported twice)
    for fusion in ("late", "add"):
        for row in by_fusion[fusion].itertuples():
            assert row.status == "completed"
            assert epochs_reported(tmp_path / "out" / "smoke" / "tune" / row.trial_id) == [1, 2, 3]
    assert not leaked_resources(timeout_s=5)
    # retried up to the limit, then recorded as failed with its error
    for fusion, error in (("gated", "injected fault"), ("concat", "can't allocate memory")):
        assert (by_fusion[fusion]["status"] == "failed").all()
        assert by_fusion[fusion]["error"].str.contains(error).all()


@pytest.mark.parametrize(
    "path, key, limit, overrun",
    [
        # a new trial's first epoch counts as the median first epoch seen: in seconds it may be longer by one epoch at most
        ("in_process", "compute_budget_s", 1.0, 1),
        # every epoch of the demo data is the same work (about 1,440 sample-epochs): the cap holds exactly
        ("in_process", "budget_sample_epochs", 8000, 0),
        # distributed trials that the budget stops before their first report leave placement groups to free
        ("distributed", "compute_budget_s", 1.0, 1),
    ],
)
def test_a_budget_ends_the_search_once_its_epochs_add_up_to_it(ray_cluster, tmp_path, path, key, limit, overrun):
    space = Path(on_path(space_without_early_stopping(tmp_path), path, tmp_path))
    raw = yaml.safe_load(space.read_text())
    raw["search"][key] = limit
    raw["search"]["max_concurrent_trials"] = 2  # no more trials started than the budget lets train
    space.write_text(yaml.safe_dump(raw))
    assert main([str(space), "--results", str(tmp_path / "out"), "--num-samples", "40"]) == 0

    root = tmp_path / "out" / "smoke"
    unit = UNITS[key].key
    spent = [
        json.loads(line)[unit]
        for f in (root / "tune").glob("*/result.json")
        for line in f.read_text().splitlines()
        if line.strip()
    ]
    assert len(ExperimentFolder(root).read_leaderboard()) < 40  # demo epochs are short: the budget, not the count, ended it
    # it ended with no room left for the epochs of the two trials in flight
    assert limit - 2 * max(spent) < sum(spent) <= limit + overrun * max(spent)
    assert not leaked_resources(timeout_s=5)
