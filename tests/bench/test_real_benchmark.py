"""Smoke test of bench/real_benchmark.py on a small slice of the real data.

The real-data benchmark itself is not part of the test suite; this runs the script's main end to end on 600
training and 200 test samples where ../shared/datasets/avdigits exists (CI), and skips elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.real_benchmark import main
from tests.helpers import SHARED_DATA

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(900)]

PRESETS = ("report1_a", "report1_b", "report1_c", "report1_c_concat", "report2_logit_mlp", "report3_spectrogram_cnn")
SEARCH_ROWS = (
    "search: TPE + ASHA best",
    "search: random, no early stopping",
    "search: TPE + ASHA on clean val_f1",
    "search: TPE + MOASHA on val_robust_f1 and latency_ms",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_benchmark_on_a_slice(ray_cluster, tmp_path: Path) -> None:
    if not (SHARED_DATA / "x_train_wr.npy").is_file():
        pytest.skip(f"no real data at {SHARED_DATA}")
    out = tmp_path / "report.md"
    # Two epochs: the searches' ASHA then has a rung (epoch 1) before the last epoch, as in the full benchmark.
    # One would save nothing: the slice's time is its runs' start-up, not their training.
    args = [
        "--data",
        str(SHARED_DATA),
        "--results",
        str(tmp_path / "runs"),
        "--out",
        str(out),
        "--max-train",
        "600",
        "--max-test",
        "200",
        "--seeds",
        "1",
        "--epochs",
        "2",
        "--max-trials",
        "1",
        "--budget-minutes",
        "2",
    ]
    main(args)  # in this process, on the test session's cluster: a run starts no cluster of its own then

    text = out.read_text()
    assert "| model | seeds | test macro F1 | test accuracy | params | latency ms |" in text
    assert "F1 audio_noise | F1 image_blank | F1 gaussian |" in text
    for label in [f"hand-tuned: {p}" for p in PRESETS] + list(SEARCH_ROWS):
        assert f"| {label}" in text, label
    assert text.count("MET**: ") == 2  # both targets get a verdict
    assert f"]({out.with_suffix('.png').name})" in text
    assert out.with_suffix(".png").read_bytes().startswith(PNG_SIGNATURE)
    # the multi-objective search's front, its figure and the answer to report 3's question (issue #19)
    assert "## Pareto front: val_robust_f1 (max), latency_ms (min)" in text
    assert ("**Yes**." in text) != ("**No**." in text)
    front = (tmp_path / "report_front.csv").read_text().splitlines()
    assert front[0].startswith("trial_id,val_robust_f1,latency_ms") and len(front) >= 2
    assert (tmp_path / "report_front.png").read_bytes().startswith(PNG_SIGNATURE)
