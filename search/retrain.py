"""``python -m search.retrain results/NAME``: redo an experiment's retraining, ablation and export, without searching.

Takes the experiment's trials as its leaderboard ranks them, retrains the best ``--top-k`` with ``--seeds``
seeds (defaults: the space's ``retrain`` section), evaluates them on the held-out test set and exports
the best to ``best/``, as the end of a search does; the earlier ``retrain/``, ``retrain.json`` and
``best/`` are replaced, and the leaderboard and report rewritten.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from search.api import load_splits
from search.cli import ArgumentParser, UserError, command, positive_int
from search.results.folder import RAY_LOG, ExperimentFolder
from search.results.leaderboard import trial_table
from search.results.report import write_report
from search.results.saved_experiment import load_experiment


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m search.retrain", description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("experiment", help="an experiment folder, e.g. results/fusion")
    p.add_argument("--seeds", type=positive_int, help="seeds per retrained config (default: the space's retrain.seeds)")
    p.add_argument("--top-k", type=positive_int, help="how many of the best trials to retrain (default: retrain.top_k)")
    p.add_argument("--no-ablation", action="store_true", help="skip the image_only / audio_only retraining")
    p.add_argument("--data", help="the data folder, if it moved since the search (default: the one it used)")
    p.add_argument("--address", help="join an existing Ray cluster: 'auto' or HOST:PORT (default: start a local one)")
    p.add_argument("--verbose", action="store_true", help=f"Ray's and Tune's own output on the console too (else in {RAY_LOG})")
    return p.parse_args(argv)


@command
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.experiment).resolve()
    spec = load_experiment(root)
    retrain = dataclasses.replace(
        spec.retrain,
        **{k: v for k, v in {"seeds": args.seeds, "top_k": args.top_k}.items() if v is not None},
        **({"ablation": False} if args.no_ablation else {}),
    )
    spec = dataclasses.replace(spec, retrain=retrain, data=dataclasses.replace(spec.data, source=args.data or spec.data.source))
    table = trial_table(root, spec.search, spec.resolver())
    if table.empty or (table["status"] == "failed").all():
        raise UserError(f"{root}: no trial with a result to retrain; run or --resume the search first")
    splits = load_splits(spec)

    from search.runtime.cluster import ray_cluster
    from search.runtime.console import quiet_console
    from search.runtime.experiment import retrain_best

    folder = ExperimentFolder(root)
    with quiet_console(folder.ray_log, args.verbose) as log:
        with ray_cluster(args.address):
            for old in (folder.retrain, folder.best, folder.ensemble, folder.crossval):  # its runs would mix with the new ones
                shutil.rmtree(old, ignore_errors=True)
            retrain_best(spec, root, splits, table)
        print(f"  report: {write_report(root, spec, table)}")
        if log is not None:
            print(f"  Ray's and Tune's own output: {log} (--verbose shows it here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
