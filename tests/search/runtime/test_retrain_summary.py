"""retrain.json's spread over seeds: the sample std (as the benchmark's), and the file says so."""

from __future__ import annotations

import statistics

import pytest

from common.stats import sample_std
from search.runtime.retrain import summarize


def rows(f1s: list[float]) -> list[dict]:
    return [
        {
            "source": "t1",
            "variant": "fused",
            "seed": s,
            "run": f"t1-fused-seed{s}",
            "accuracy": f1 + 0.05,
            "f1": f1,
            "per_class_f1": [f1] * 10,
            "confusion_matrix": [[0] * 10] * 10,
        }
        for s, f1 in enumerate(f1s)
    ]


def test_the_summary_reports_the_sample_std_and_says_so():
    summary = summarize(rows([0.80, 0.82, 0.87]), "test")
    group = summary["configs"][0]
    assert group["f1_std"] == pytest.approx(statistics.stdev([0.80, 0.82, 0.87]))
    assert group["accuracy_std"] == pytest.approx(statistics.stdev([0.85, 0.87, 0.92]))
    assert "sample std" in summary["std"]


def test_one_seed_has_a_zero_std_not_nan():
    assert summarize(rows([0.8]), "test")["configs"][0]["f1_std"] == 0.0
    assert sample_std([]) == 0.0 and sample_std([1.0, 3.0]) == pytest.approx(2**0.5)
