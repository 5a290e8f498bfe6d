"""Predicting a data folder's test set with an exported model (``python -m search.predict`` is its command line).

The model is the TorchScript file that ``serving.export.export_model`` wrote; nothing is unpickled.
"""

from __future__ import annotations

import numpy as np
import torch

from data_utils import DataError, Split, load_dataset


def load_test_split(data: str) -> Split:
    dataset = load_dataset(data)
    if dataset.test is None:
        raise DataError(
            f"{data}: no test set (expected x_test_wr.npy + x_test_sp.npy in the Kaggle layout, or "
            "data_wr_test.npy + data_sp_test.npy in the Zenodo layout); add the test files"
        )
    return dataset.test


@torch.inference_mode()
def predict(model: torch.jit.ScriptModule, split: Split, batch_size: int) -> np.ndarray:
    """Predicted digits (N,) int64 of ``split``, ``batch_size`` samples at a time."""
    preds = []
    for start in range(0, len(split), batch_size):
        images = torch.from_numpy(split.images[start : start + batch_size])  # (b, 784) uint8
        audio = torch.from_numpy(split.audio[start : start + batch_size])  # (b, 507) float32
        preds.append(model(images, audio).argmax(1))
    return torch.cat(preds).numpy()


def submission_csv(predictions: np.ndarray) -> str:
    return "row_id,label\n" + "".join(f"{i},{p}\n" for i, p in enumerate(predictions.tolist()))
