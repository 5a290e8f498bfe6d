"""`make run`'s search, as a new user runs it: its retrained best beats logistic regression on the demo data.

Long tier (minutes on 2 cores): `pytest -m long`.
"""

from __future__ import annotations

import json

import pytest

from search.space.spec import load_spec
from tests.helpers import ROOT, TrackedCommand, assert_quiet

pytestmark = [pytest.mark.ray, pytest.mark.long]
LOGISTIC_REGRESSION_F1 = 0.980  # its fused test macro F1 on the demo data, trained on the same train + validation split


def test_quickstart_beats_logistic_regression_with_tpe_proposing_most_trials(tmp_path):
    spec = load_spec(ROOT / "spaces" / "quickstart.yaml")
    assert spec.searcher.name == "tpe" and spec.searcher.n_startup_trials < spec.search.num_samples / 2
    run = TrackedCommand("search.run", "spaces/quickstart.yaml", "--results", str(tmp_path), log=tmp_path / "run.log")
    assert run.wait(timeout=1200) == 0, run.output()
    assert not run.left_behind()
    root = tmp_path / "quickstart"
    assert_quiet(run.output(), root)
    fused = json.loads((root / "retrain.json").read_text())["configs"][0]
    assert (fused["variant"], fused["seeds"]) == ("fused", 3)
    assert fused["f1_mean"] >= LOGISTIC_REGRESSION_F1, fused
