"""``python -m search.predict MODEL_DIR --data DIR``: predict a data folder's test set with an exported model.

Writes a Kaggle-style submission (``row_id,label``, one row per test sample, in order) and, when the test
set is labelled, prints its accuracy and macro F1. The model is the TorchScript file that
``search.export.export_model`` wrote; nothing is unpickled.

Example:
    python -m search.predict results/fusion/best --data path/to/written_spoken_digits --out submission.csv
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from data_utils import DataError, Split, load_dataset
from data_utils.loaders import NUM_CLASSES
from search.cli import ArgumentParser, UserError, positive_int, write_output
from search.export import ExportError, load_exported
from training.metrics import macro_f1

DEFAULT_OUT = "submission.csv"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m search.predict", description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by search.export.export_model")
    p.add_argument("--data", required=True, help="a directory in the Kaggle or Zenodo layout with a test set, or 'demo'")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"the submission CSV to write (default: {DEFAULT_OUT})")
    p.add_argument("--batch-size", type=positive_int, default=1024, help="samples per forward pass (default: 1024)")
    return p.parse_args(argv)


def load_test_split(data: str) -> Split:
    dataset = load_dataset(data)
    if dataset.test is None:
        raise UserError(
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, or 2 for a user error, reported as one line)."""
    args = parse_args(argv)
    out = Path(args.out).expanduser()
    try:
        model = load_exported(Path(args.model_dir))
        split = load_test_split(args.data)
        predictions = predict(model, split, args.batch_size)
        write_output(out, submission_csv(predictions))
    except (DataError, ExportError, UserError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    print(f"wrote {len(predictions)} predictions to {out}")
    if split.labels is not None:
        pred, target = torch.from_numpy(predictions), torch.from_numpy(split.labels)
        accuracy = (pred == target).double().mean().item()
        print(f"test accuracy: {accuracy:.4f}  macro F1: {macro_f1(pred, target, NUM_CLASSES):.4f}  ({len(split)} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
