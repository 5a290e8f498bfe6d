"""``python -m search.evaluate MODEL_DIR --data DIR``: how an exported model copes with missing or noisy inputs.

Evaluates the model on the labelled test set of a data folder, clean and under each corruption of
``data_utils.corruptions`` (audio replaced by noise, image blanked, Gaussian noise on both), prints
accuracy and macro F1 per corruption and, with ``--out``, writes them as JSON. The noise is seeded: the
same seed gives the same numbers. In Python, ``serving.evaluate.evaluate_model`` does the same for a
folder or a module.

Example:
    python -m search.evaluate results/fusion/best --data path/to/written_spoken_digits --out robustness.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from data_utils.corruptions import CORRUPTIONS
from search.cli import ArgumentParser, command, positive_int, write_output
from search.space.typed_config import did_you_mean
from serving.evaluate import DEFAULT_CORRUPTIONS, evaluate_model
from serving.predict import load_test_split


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
    p.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by serving.export.export_model")
    p.add_argument("--data", required=True, help="a directory in the Kaggle or Zenodo layout with a labelled test set, or 'demo'")
    p.add_argument(
        "--corruptions",
        type=corruption_names,
        default=DEFAULT_CORRUPTIONS,
        help=f"comma-separated, in order (default: {','.join(DEFAULT_CORRUPTIONS)})",
    )
    p.add_argument("--out", help="also write the results to this JSON file")
    p.add_argument("--seed", type=int, default=0, help="seed of the corruptions' noise (default: 0)")
    p.add_argument("--batch-size", type=positive_int, default=1024, help="samples per forward pass (default: 1024)")
    return p.parse_args(argv)


def table(results: dict[str, dict[str, float]]) -> str:
    width = max(len("corruption"), *map(len, results))
    lines = [f"{'corruption':<{width}}  accuracy  macro F1"]
    lines += [f"{name:<{width}}  {r['accuracy']:>8.4f}  {r['f1']:>8.4f}" for name, r in results.items()]
    return "\n".join(lines)


@command
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, or 2 for a user error, reported as one line)."""
    args = parse_args(argv)
    report = {
        "model": args.model_dir,
        "data": args.data,
        **evaluate_model(Path(args.model_dir), load_test_split(args.data), args.corruptions, args.seed, args.batch_size),
    }
    if args.out is not None:
        write_output(Path(args.out).expanduser(), json.dumps(report, indent=1) + "\n")

    print(f"{report['samples']} test samples of {args.data}, seed {args.seed}")
    print(table(report["corruptions"]))
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
