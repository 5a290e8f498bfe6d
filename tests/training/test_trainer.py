"""The trainer on the built-in demo data: learning, reproducibility, checkpoint/resume, every option."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from data_utils import make_demo_dataset, train_val_split
from search.space.spec import parse_trial_config
from training.metrics import macro_f1
from training.trainer import EVAL_COST, ROBUST_CORRUPTIONS, train

SMALL_MODEL = {
    "image": {"name": "cnn", "channels": [8, 16], "kernels": [3, 3], "fc": [32]},
    "audio": {"name": "gru", "hidden": 16},
    "fusion": {"name": "concat"},
    "head": {"hidden": [32]},
}


@pytest.fixture(scope="module")
def splits():
    torch.set_num_threads(1)
    train_split, val_split = train_val_split(make_demo_dataset(0).train, 0.2, 0)
    return train_split, val_split


def config(**sections):
    base = {"model": SMALL_MODEL, "train": {"epochs": 3, "lr": 3e-3, "batch_size": 64}}
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return parse_trial_config(base)


def strip(history):
    """Rows without their wall-clock and CPU seconds, the fields that may differ between identical runs."""
    return [{k: v for k, v in row.items() if k not in ("seconds", "cpu_seconds")} for row in history]


def test_beats_chance_by_a_wide_margin_within_seconds(splits):
    start = time.perf_counter()
    result = train(config(train={"epochs": 4}), *splits)
    elapsed = time.perf_counter() - start
    assert result.history[-1]["val_f1"] > 0.85  # chance is 0.1
    assert result.history[-1]["val_accuracy"] > 0.85
    assert elapsed < 60
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_every_epoch_reports_its_work_in_samples(splits):
    train_split, val_split = splits
    history = train(config(train={"epochs": 2, "batch_size": len(train_split) - 1}), *splits).history
    for row in history:  # the last batch, of one sample, is left out (batch norm)
        assert row["train_samples"] == len(train_split) - 1
        assert row["val_samples"] == len(ROBUST_CORRUPTIONS) * len(val_split)
        assert row["sample_epochs"] == row["train_samples"] + EVAL_COST * row["val_samples"]
        assert 0 < row["cpu_seconds"]


def test_same_config_and_seed_give_the_same_metrics(splits):
    cfg = config(augment={"shift": 2, "rotate": 10.0, "audio_noise": 0.1, "time_shift": 2, "modality_dropout": 0.2})
    a = train(cfg, *splits).history
    b = train(cfg, *splits).history
    assert strip(a) == strip(b)
    c = train(config(train={"seed": 1}), *splits).history
    assert strip(c) != strip(a)


def test_resume_from_a_checkpoint_gives_identical_metrics(splits):
    cfg = config(train={"epochs": 4, "schedule": "cosine"}, augment={"shift": 1, "modality_dropout": 0.1})
    saved = {}

    def keep(row, state):
        if row["epoch"] == 2:
            saved["checkpoint"] = state()

    full = train(cfg, *splits, on_epoch=keep).history
    # A checkpoint survives a round trip through torch.save/load(weights_only=True), as Ray stores it.
    buf = io.BytesIO()
    torch.save(saved["checkpoint"], buf)
    buf.seek(0)
    restored = torch.load(buf, weights_only=True)
    resumed = train(cfg, *splits, resume=restored).history
    assert strip(resumed) == strip(full)
    assert len(resumed) == 4


@pytest.mark.parametrize(
    "sections",
    [
        {"train": {"optimizer": "sgd", "lr": 0.05, "schedule": "onecycle"}},
        {
            "train": {
                "optimizer": "adamw",
                "weight_decay": 1e-2,
                "schedule": "cosine",
                "label_smoothing": 0.1,
                "class_weights": True,
            }
        },
        {"preprocess": {"image_scaling": "standardize", "audio_layout": "chunks"}},
        {"preprocess": {"audio_layout": "flat"}},
        {"preprocess": {"audio_layout": "spectrogram"}},
        {"augment": {"hflip": 0.5, "rotate": 15.0}},
    ],
    ids=["sgd-onecycle", "adamw-cosine-smoothing-weights", "standardize-chunks", "flat", "spectrogram", "hflip-rotate"],
)
def test_every_option_trains(splits, sections):
    history = train(
        config(train={"epochs": 2, **sections.get("train", {})}, **{k: v for k, v in sections.items() if k != "train"}), *splits
    ).history
    assert len(history) == 2
    assert all(np.isfinite(row["train_loss"]) and np.isfinite(row["val_loss"]) for row in history)
    assert history[-1]["val_accuracy"] > 0.3


def test_macro_f1_matches_scikit_learn():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 10, 500)
    pred = np.where(rng.random(500) < 0.7, target, rng.integers(0, 10, 500))
    pred[pred == 3] = 4  # a class that is never predicted
    ours = macro_f1(torch.as_tensor(pred), torch.as_tensor(target), 10)
    assert ours == pytest.approx(f1_score(target, pred, average="macro"), abs=1e-12)
