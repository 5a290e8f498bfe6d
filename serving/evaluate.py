"""``python -m search.evaluate MODEL_DIR --data DIR``: how an exported model copes with missing or noisy inputs.

Evaluates the model on the labelled test set of a data folder, clean and under each corruption of
``data_utils.corruptions`` (audio replaced by noise, image blanked, Gaussian noise on both), prints
accuracy and macro F1 per corruption and, with ``--out``, writes them as JSON. The noise is seeded: the
same seed gives the same numbers. In Python, ``evaluate_model`` does the same for a folder or a module.

Example:
    python -m search.evaluate results/fusion/best --data path/to/written_spoken_digits --out robustness.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from data_utils import DataError, Split
from data_utils.corruptions import CORRUPTIONS, corrupt
from data_utils.loaders import NUM_CLASSES
from search.cli import ArgumentParser, UserError, positive_int, write_output
from search.export import ExportError, load_exported
from search.predict import load_test_split, predict
from search.typed_config import did_you_mean
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
        model: a folder written by ``search.export.export_model``, or a module that takes raw inputs as an
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
        raise UserError("the test set has no labels (no y_test.npy / labels_test.npy); evaluation needs them")
    target = torch.from_numpy(split.labels)
    results = {}
    for name in corruptions:
        pred = torch.from_numpy(predict_corrupted(module, split, name, seed, batch_size))
        results[name] = {"accuracy": (pred == target).double().mean().item(), "f1": macro_f1(pred, target, NUM_CLASSES)}
    return {"samples": len(split), "seed": seed, "corruptions": results}


def corruption_names(text: str) -> tuple[str, ...]:
    """``--corruptions``: a comma-separated list of known names, duplicates dropped, order kept."""
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of: {', '.join(CORRUPTIONS)}")
    for name in names:
        if name not in CORRUPTIONS:
            raise argparse.ArgumentTypeError(
                f"unknown corruption {name!r}{did_you_mean(name, CORRUPTIONS)}; known: {', '.join(CORRUPTIONS)}"
            )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m search.evaluate", description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by search.export.export_model")
    p.add_argument("--data", required=True, help="a directory in the Kaggle or Zenodo layout with a labelled test set, or 'demo'")
    p.add_argument("--corruptions", type=corruption_names, default=DEFAULT_CORRUPTIONS,
                   help=f"comma-separated, in order (default: {','.join(DEFAULT_CORRUPTIONS)})")
    p.add_argument("--out", help="also write the results to this JSON file")
    p.add_argument("--seed", type=int, default=0, help="seed of the corruptions' noise (default: 0)")
    p.add_argument("--batch-size", type=positive_int, default=1024, help="samples per forward pass (default: 1024)")
    return p.parse_args(argv)


def table(results: dict[str, dict[str, float]]) -> str:
    width = max(len("corruption"), *map(len, results))
    lines = [f"{'corruption':<{width}}  accuracy  macro F1"]
    lines += [f"{name:<{width}}  {r['accuracy']:>8.4f}  {r['f1']:>8.4f}" for name, r in results.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, or 2 for a user error, reported as one line)."""
    args = parse_args(argv)
    try:
        report = {"model": args.model_dir, "data": args.data,
                  **evaluate_model(Path(args.model_dir), load_test_split(args.data), args.corruptions, args.seed, args.batch_size)}
        if args.out is not None:
            write_output(Path(args.out).expanduser(), json.dumps(report, indent=1) + "\n")
    except (DataError, ExportError, UserError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    print(f"{report['samples']} test samples of {args.data}, seed {args.seed}")
    print(table(report["corruptions"]))
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
