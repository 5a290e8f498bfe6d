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

from data_utils import DataError
from search.cli import ArgumentParser, UserError, positive_int
from search.console import RAY_LOG, quiet_console
from search.leaderboard import trial_table, write_leaderboard
from search.report import load_experiment, write_report
from search.run import load_splits
from search.typed_config import ConfigError


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.experiment).resolve()
    try:
        spec = load_experiment(root)
        retrain = dataclasses.replace(
            spec.retrain, **{k: v for k, v in {"seeds": args.seeds, "top_k": args.top_k}.items() if v is not None},
            **({"ablation": False} if args.no_ablation else {}),
        )
        spec = dataclasses.replace(spec, retrain=retrain, data=dataclasses.replace(spec.data, source=args.data or spec.data.source))
        table = trial_table(root, spec)
        if table.empty or (table["status"] == "failed").all():
            raise UserError(f"{root}: no trial with a result to retrain; run or --resume the search first")
        splits = load_splits(spec)
    except (ConfigError, DataError, UserError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    import ray

    from search.cluster import ClusterError, ray_cluster
    from search.experiment import print_retrained
    from search.retrain import BEST_DIR, RETRAIN_DIR, run_retraining
    from search.tuner import gpus_per_worker

    with quiet_console(root / RAY_LOG, args.verbose) as log:
        try:
            with ray_cluster(args.address):
                for old in (RETRAIN_DIR, BEST_DIR):  # its runs would mix with the new ones
                    shutil.rmtree(root / old, ignore_errors=True)
                gpus = gpus_per_worker(spec, ray.cluster_resources().get("GPU", 0.0))
                retrained = run_retraining(spec, root, splits, table, use_gpu=gpus > 0, gpus=gpus)
        except ClusterError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        write_leaderboard(root, table, spec, retrained)
        if retrained is not None:
            print_retrained(retrained)
        print(f"  report: {write_report(root, spec, table)}")
        if log is not None:
            print(f"  Ray's and Tune's own output: {log} (--verbose shows it here)")
    return 0
