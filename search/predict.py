"""``python -m search.predict MODEL_DIR --data DIR``: predict a data folder's test set with an exported model.

Writes a Kaggle-style submission (``row_id,label``, one row per test sample, in order) and, when the test
set is labelled, prints its accuracy and macro F1. The model is the TorchScript file that
``serving.export.export_model`` wrote; nothing is unpickled.

Example:
    python -m search.predict results/fusion/best --data path/to/written_spoken_digits --out submission.csv
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from common.constants import NUM_CLASSES
from search.cli import ArgumentParser, command, positive_int, write_output
from serving.export import load_exported
from serving.predict import load_test_split, predict, submission_csv
from training.metrics import macro_f1

DEFAULT_OUT = "submission.csv"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m search.predict", description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by serving.export.export_model")
    p.add_argument("--data", required=True, help="a directory in the Kaggle or Zenodo layout with a test set, or 'demo'")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"the submission CSV to write (default: {DEFAULT_OUT})")
    p.add_argument("--batch-size", type=positive_int, default=1024, help="samples per forward pass (default: 1024)")
    return p.parse_args(argv)


@command
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, or 2 for a user error, reported as one line)."""
    args = parse_args(argv)
    out = Path(args.out).expanduser()
    model = load_exported(Path(args.model_dir))
    split = load_test_split(args.data)
    predictions = predict(model, split, args.batch_size)
    write_output(out, submission_csv(predictions))

    print(f"wrote {len(predictions)} predictions to {out}")
    if split.labels is not None:
        pred, target = torch.from_numpy(predictions), torch.from_numpy(split.labels)
        accuracy = (pred == target).double().mean().item()
        print(f"test accuracy: {accuracy:.4f}  macro F1: {macro_f1(pred, target, NUM_CLASSES):.4f}  ({len(split)} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
