"""val_robust_f1: the trainer's score on clean, audio-missing and image-missing validation inputs."""

from __future__ import annotations

import pytest
import torch

from data_utils import make_demo_dataset, train_val_split
from search.space.spec import parse_trial_config
from serving.evaluate import evaluate_model
from serving.export import ExportedClassifier
from training.trainer import CORRUPTION_SEED, ROBUST_CORRUPTIONS, train

SMALL_MODEL = {
    "image": {"name": "cnn", "channels": [8, 16], "kernels": [3, 3], "fc": [32]},
    "audio": {"name": "gru", "hidden": 16},
}


@pytest.fixture(scope="module")
def splits():
    torch.set_num_threads(1)
    return train_val_split(make_demo_dataset(0).train, 0.2, 0)


@pytest.mark.parametrize("fusion", ["concat", "image_only"])
def test_val_robust_f1_is_the_mean_f1_of_the_model_on_the_corrupted_validation_split(splits, fusion):
    config = parse_trial_config({"model": {**SMALL_MODEL, "fusion": {"name": fusion}}, "train": {"epochs": 2, "lr": 3e-3}})
    result = train(config, *splits)
    assert all(0 <= row["val_robust_f1"] <= 1 for row in result.history)
    # Recomputed the way search.evaluate scores an export: raw inputs, corrupted on the CPU, preprocessing inside.
    raw_input_model = ExportedClassifier(result.preprocessor, result.model).eval()
    scores = evaluate_model(raw_input_model, splits[1], ROBUST_CORRUPTIONS, CORRUPTION_SEED)["corruptions"]
    last = result.history[-1]
    assert last["val_robust_f1"] == pytest.approx(sum(s["f1"] for s in scores.values()) / len(scores), abs=1e-12)
    assert last["val_f1"] == pytest.approx(scores["clean"]["f1"], abs=1e-12)
    if fusion == "image_only":
        assert scores["audio_noise"] == scores["clean"]  # no audio encoder: noise in place of audio changes nothing
    else:
        assert last["val_robust_f1"] < last["val_f1"]  # a fusion model trained on clean pairs suffers without one
