"""retrain.ensemble: the exported TorchScript ensemble averages its members' probabilities."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from data_utils import make_demo_dataset
from search.results.folder import ENSEMBLE_DIR
from search.space.spec import RetrainSection
from serving.checks import probe_inputs
from serving.ensemble import MEMBERS_FILE, EnsembleClassifier, export_ensemble, members_in_order, scores
from serving.export import ExportedClassifier, quiet_jit, script
from serving.layout import METRICS_FILE, MODEL_FILE
from tests.helpers import untrained


@pytest.fixture(scope="module")
def demo():
    torch.set_num_threads(1)
    return make_demo_dataset(0)


def members(demo):
    """Two models that differ in layout and fusion, so each member's own preprocessing matters."""
    out = {}
    for name, layout, fusion in (("a", "frames", "concat"), ("b", "spectrogram", "late")):
        _, model, pre = untrained(demo, layout, fusion=fusion)
        out[name] = (model, pre)
    return out


def test_the_ensemble_is_the_mean_of_its_members_probabilities(demo):
    models = members(demo)
    wrapped = [ExportedClassifier(pre, model).eval() for model, pre in models.values()]
    images, audio = probe_inputs()
    with torch.no_grad():
        expected = torch.stack([torch.softmax(m(images, audio), 1) for m in wrapped]).mean(0)
        got = script(EnsembleClassifier(wrapped).eval())(images, audio)
    torch.testing.assert_close(torch.softmax(got, 1), expected)  # its output reads as the single model's logits
    assert torch.equal(got.argmax(1), expected.argmax(1))


def test_export_writes_the_ensemble_beside_the_single_best(demo, tmp_path):
    models = members(demo)
    rows = [  # the held-out scores the retraining measured, per run
        {"run": "b", "source": "t2", "variant": "fused", "seed": 0, "accuracy": 0.5, "f1": 0.4},
        {"run": "a", "source": "t1", "variant": "fused", "seed": 0, "accuracy": 0.6, "f1": 0.5},
        {"run": "x", "source": "t1", "variant": "image_only", "seed": 0, "accuracy": 0.7, "f1": 0.7},
    ]
    assert [r["run"] for r in members_in_order(rows, ["t1", "t2"], 5)] == ["a", "b"]  # the search's order, fused only
    metrics = export_ensemble(tmp_path / ENSEMBLE_DIR, 2, rows, models, ["t1", "t2"], demo.test, "test")
    folder = tmp_path / ENSEMBLE_DIR
    assert json.loads((folder / METRICS_FILE).read_text()) == metrics
    assert metrics["single_best"] == {"run": "a", "accuracy": 0.6, "f1": 0.5} and metrics["members"] == 2
    assert [m["run"] for m in json.loads((folder / MEMBERS_FILE).read_text())] == ["a", "b"]
    with quiet_jit():
        loaded = torch.jit.load(str(folder / MODEL_FILE))
    assert scores(loaded, demo.test) == metrics["ensemble"]
    assert 0 <= metrics["ensemble"]["f1"] <= 1 and np.isfinite(metrics["ensemble"]["accuracy"])


def test_an_ensemble_needs_as_many_retrained_models():
    with pytest.raises(ValueError, match="top_k x seeds = 3"):
        RetrainSection(top_k=1, seeds=3, ensemble=4)
    with pytest.raises(ValueError, match="ensemble must be 0 .none. or >= 2, got 1"):
        RetrainSection(ensemble=1)
