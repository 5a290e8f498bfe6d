"""``python -m search.run SPACE.yaml``: search a space with Ray Tune (Optuna + ASHA) over Ray Train trials.

Everything lands in ``results/<name>/``: the resolved space, Ray Tune's experiment (``tune/``, with the
checkpoints of trials that train in-process), one Ray Train run per distributed trial (``train/``), TensorBoard logs (``tensorboard/``) and the leaderboard
(``leaderboard.csv``, ``.json``, ``.md``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.constants import INTERRUPTED, METRIC_MODES, STOPPED_BY, TERMINATED
from search.api import forget, load_splits, new_experiment, run_experiment, writable_folder
from search.cli import ArgumentParser, UserError, command, positive_int
from search.results.folder import RAY_LOG, ExperimentFolder
from search.results.saved_experiment import previous_trials
from search.runtime.console import quiet_console
from search.space.spec import SearchSpec, load_spec
from search.space.typed_config import ConfigError


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m search.run", description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("space", help="search space file, e.g. spaces/fusion.yaml")
    p.add_argument("--data", help="'demo' or a directory in the Kaggle or Zenodo layout (overrides data.source)")
    p.add_argument("--address", help="join an existing Ray cluster: 'auto' or HOST:PORT (default: start a local one)")
    p.add_argument("--name", help="experiment name (default: the space's name); results go to RESULTS/NAME")
    p.add_argument("--resume", action="store_true", help="continue the interrupted experiment NAME")
    p.add_argument("--num-samples", type=positive_int, help="number of trials (overrides search.num_samples)")
    p.add_argument("--max-epochs", type=positive_int, help="epochs per trial (overrides scheduler.max_t)")
    p.add_argument("--metric", choices=list(METRIC_MODES), help="rank trials by this (overrides search.metric and its mode)")
    p.add_argument("--results", default="results", help="folder for experiments (default: results)")
    p.add_argument(
        "--warm-start",
        metavar="EXPERIMENT",
        help="give the searcher the finished trials of a previous experiment (results/<name>) without training them again",
    )
    p.add_argument(
        "--verbose", action="store_true", help=f"Ray's and Tune's own output on the console too (else in RESULTS/NAME/{RAY_LOG})"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate the space, show sampled configs, resources and a cost estimate; start no Ray, write nothing",
    )
    return p.parse_args(argv)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.data is not None:
        out["data.source"] = args.data
    if args.num_samples is not None:
        out["search.num_samples"] = args.num_samples
    if args.max_epochs is not None:
        out["scheduler.max_t"] = args.max_epochs
    if args.metric is not None:
        out["search.metric"], out["search.mode"] = args.metric, METRIC_MODES[args.metric]
    if args.name is not None:
        out["name"] = args.name
    return out


def experiment_dir(args: argparse.Namespace, spec: SearchSpec) -> Path:
    """RESULTS/NAME, checked against ``--resume``; made once every input is known to be good."""
    root = Path(args.results).resolve() / spec.name
    if args.resume and not ExperimentFolder(root).spec.is_file():
        raise UserError(f"--resume: no experiment at {root}; check --name and --results")
    if not args.resume and root.is_dir() and any(root.iterdir()):
        raise UserError(f"{root} already holds an experiment; add --resume to continue it, or pick another --name")
    return root


@command
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    over = overrides(args)
    spec_path = Path(args.space)
    spec = load_spec(spec_path, over)
    if args.dry_run:
        from search.space.dry_run import dry_run

        dry_run(spec, load_splits(spec))
        return 0
    root = experiment_dir(args, spec)
    if args.resume:
        spec = load_spec(ExperimentFolder(root).spec)
    previous = previous_trials(Path(args.warm_start), spec) if args.warm_start and not args.resume else []
    splits = load_splits(spec)
    # not before: bad input must leave no trace
    folder = writable_folder(root) if args.resume else new_experiment(root, spec_path, over, previous)

    with quiet_console(folder.ray_log, args.verbose) as log:
        try:
            code = run_experiment(spec, splits, root, address=args.address, resume=args.resume)
        except UserError as e:  # found once Ray is up: no cluster, or no room for a trial
            if not args.resume:
                forget(root)
            if isinstance(e, ConfigError):
                raise UserError(f"{args.space}: {e}") from None
            raise
        except KeyboardInterrupt:  # a second Ctrl-C: Tune's first one ends fit() itself
            code = INTERRUPTED
        except SystemExit as e:  # SIGTERM outside the search's fit (start-up, retraining): Ray's handler exits so
            if e.code != signal.SIGTERM:
                raise
            code = TERMINATED
        if log is not None:
            print(f"  Ray's and Tune's own output: {log} (--verbose shows it here)")
        if code in STOPPED_BY:
            print(f"{STOPPED_BY[code]}: results so far in {root}; continue with: {resume_command(args, spec)}", file=sys.stderr)
    return code


def resume_command(args: argparse.Namespace, spec: SearchSpec) -> str:
    address = f" --address {args.address}" if args.address else ""
    return f"python -m search.run {args.space} --name {spec.name} --results {args.results}{address} --resume"


if __name__ == "__main__":
    sys.exit(main())
