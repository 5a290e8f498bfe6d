"""How an exported model copes with missing or noisy inputs (``python -m search.evaluate`` is its command line).

``evaluate_model`` evaluates a model folder or module on a labelled split, clean and under each corruption
of ``data_utils.corruptions`` (audio replaced by noise, image blanked, Gaussian noise on both). The noise
is seeded: the same seed gives the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from common.constants import NUM_CLASSES
from data_utils import DataError, Split
from data_utils.corruptions import CORRUPTIONS, corrupt
from serving.export import load_exported
from serving.predict import predict
from training.metrics import macro_f1
from training.trainer import as_tensor

DEFAULT_CORRUPTIONS = tuple(CORRUPTIONS)
CPU = torch.device("cpu")


def corrupted_split(split: Split, corruption: str, seed: int = 0) -> Split:
    """``split`` under ``corruption`` (a name in ``CORRUPTIONS``), on the CPU; labels unchanged."""
    images, audio = corrupt(corruption, as_tensor(split.images, CPU), as_tensor(split.audio, CPU), seed)
    return Split(images.numpy(), audio.numpy(), split.labels)


def predict_corrupted(model: torch.nn.Module, split: Split, corruption: str, seed: int = 0, batch_size: int = 1024) -> np.ndarray:
    """Predicted digits (N,) of a raw-input model (an export) on ``split`` under ``corruption``."""
    return predict(model, corrupted_split(split, corruption, seed), batch_size)


def evaluate_model(
    model: str | os.PathLike | torch.nn.Module,
    split: Split,
    corruptions: Sequence[str] = DEFAULT_CORRUPTIONS,
    seed: int = 0,
    batch_size: int = 1024,
) -> dict[str, Any]:
    """Accuracy and macro F1 of a model on a labelled split, clean and under each corruption.

    Args:
        model: a folder written by ``serving.export.export_model``, or a module that takes raw inputs as an
            export does (uint8 images (B, 784), audio (B, 507)), e.g. ``ExportedClassifier(pre, model)``.
        split: a labelled split, e.g. ``load_dataset(DIR).test``.
        corruptions: names in ``data_utils.corruptions.CORRUPTIONS``, evaluated in this order.
        seed: seeds every corruption's noise (each corruption starts from it afresh, so its numbers do not
            depend on which others are listed).
        batch_size: samples per forward pass; does not change the results.

    Returns:
        {"samples": N, "seed": seed, "corruptions": {name: {"accuracy": float, "f1": float}}}

    Raises:
        ExportError: ``model`` is a folder without a loadable export.
        UserError: ``split`` has no labels.
        ValueError: an unknown corruption name.

    Example:
        >>> evaluate_model("results/fusion/best", load_dataset("data").test, ["clean", "image_blank"])
    """
    module = load_exported(Path(model)) if isinstance(model, (str, os.PathLike)) else model
    if split.labels is None:
        raise DataError("the test set has no labels (no y_test.npy / labels_test.npy); evaluation needs them")
    target = torch.from_numpy(split.labels)
    results = {}
    for name in corruptions:
        pred = torch.from_numpy(predict_corrupted(module, split, name, seed, batch_size))
        results[name] = {"accuracy": (pred == target).double().mean().item(), "f1": macro_f1(pred, target, NUM_CLASSES)}
    return {"samples": len(split), "seed": seed, "corruptions": results}
