"""bench/gpu_check.py's dry run on CPU: every step of the device check set up, the reports written; no Ray."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.gpu_check import BATCHES, WINNER_PARAMS, main
from bench.gpu_sampler import GpuSampler


def test_the_dry_run_sets_every_step_up_and_writes_both_reports(tmp_path: Path, capsys) -> None:
    assert main(["--dry-run", "--samples", "2000", "--device", "cpu", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "2,000 training samples" in printed
    assert f"the winner has the benchmark's {WINNER_PARAMS:,} parameters: True" in printed
    # fusion.yaml's 8 trials at once share one GPU: gpus_per_worker auto gives each an eighth
    assert "search: gpu_check, 8 at once, 0.125 GPU per trial on one GPU" in printed
    assert "GPU sampler: {'source': 'none', 'samples': 0" in printed
    result = json.loads((tmp_path / "gpu.json").read_text())
    assert result["dry_run"] and result["search"] is None
    rows = result["throughput"]
    assert [(r["model"], r["batch"]) for r in rows] == [("report1_c", BATCHES[0]), ("benchmark winner", BATCHES[0])]
    assert all(r["ours_samples_s"] > 0 and r["reference_samples_s"] > 0 and r["epoch_s"] > 0 for r in rows)
    assert rows[1]["params"] == WINNER_PARAMS
    assert [t["met"] for t in result["targets"]] == [None] * 3  # toy figures get no verdict
    report = (tmp_path / "gpu.md").read_text()
    assert report.count("\n| report1_c |") == 1 and report.count("\n| benchmark winner |") == 1
    assert "A dry run" in report and "not measured" in report


def test_the_sampler_summarizes_its_readings_and_records_nothing_without_a_gpu() -> None:
    sampler = GpuSampler(interval_s=0.01)
    readings = iter([(50.0, 1000.0), (100.0, 3000.0), (90.0, 2000.0)])
    sampler.source, sampler.read = "fake", lambda: next(readings, None)
    sampler.start()
    while len(sampler.readings) < 3:
        pass
    summary = sampler.stop()
    assert summary == {
        "source": "fake",
        "samples": 3,
        "busy_mean_pct": pytest.approx(80.0),
        "busy_median_pct": 90.0,
        "memory_peak_mib": 3000.0,
    }
    empty = GpuSampler()
    empty.source, empty.read = "none", None
    empty.start()
    assert empty.stop()["samples"] == 0
