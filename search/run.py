"""``python -m search.run SPACE.yaml``: search a space with Ray Tune (Optuna + ASHA) over Ray Train trials.

Everything lands in ``results/<name>/``: the resolved space, Ray Tune's experiment (``tune/``, with the
checkpoints of trials that train in-process), one Ray Train run per distributed trial (``train/``), TensorBoard logs (``tensorboard/``) and the leaderboard
(``leaderboard.csv``, ``.json``, ``.md``).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from common.constants import METRIC_MODES
from data_utils import DataError, Split, duplicate_groups, load_dataset, train_val_split
from search.cli import ArgumentParser, UserError, command, positive_int
from search.results.atomic import atomic_write_text
from search.results.folder import RAY_LOG, SPEC_FILE, ExperimentFolder
from search.results.saved_experiment import previous_trials
from search.space.resolve import deep_merge, unflatten
from search.space.spec import DataSection, SearchSpec, load_spec
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
    """RESULTS/NAME, checked against ``--resume``; ``create_dir`` makes it once every input is known to be good."""
    root = Path(args.results).resolve() / spec.name
    if args.resume and not (root / SPEC_FILE).is_file():
        raise UserError(f"--resume: no experiment at {root}; check --name and --results")
    if not args.resume and root.is_dir() and any(root.iterdir()):
        raise UserError(f"{root} already holds an experiment; add --resume to continue it, or pick another --name")
    return root


def create_dir(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot write results to {root}: {e.strerror}; pick a writable --results folder") from None


def validation_split(data: DataSection, train: Split) -> tuple[Split, Split]:
    """(train, validation) of ``train`` as a space file's data section says."""
    groups = duplicate_groups(train) if data.group_duplicates else None
    if groups is not None and groups.max() + 1 < len(groups):
        print(
            f"data: the {len(groups)} training samples form {groups.max() + 1} groups sharing an audio clip or an image; "
            "each group stays on one side of the split (data.group_duplicates)"
        )
    return train_val_split(train, data.val_fraction, data.seed, groups)


def load_splits(spec: SearchSpec) -> dict[str, Any]:
    dataset = load_dataset(spec.data.source, seed=spec.data.seed)
    try:
        train, val = validation_split(spec.data, dataset.train)
    except DataError as e:
        # The split's messages name the class and data.val_fraction; say which data set, too.
        raise DataError(f"{dataset.source}: {e}") from None
    print(
        f"data: {dataset.source}: {len(train)} train / {len(val)} validation samples"
        + (f", {len(dataset.test)} held-out test samples (not used by the search)" if dataset.test is not None else "")
    )
    if dataset.synthetic_audio:
        print("data: NOTE the demo's audio is SYNTHETIC; point --data at a Kaggle/Zenodo folder for real speech")
    return {"train": train, "val": val, "test": dataset.test, "source": dataset.source}


def save_spec(root: Path, path: Path, over: dict[str, Any]) -> None:
    raw = yaml.safe_load(path.read_text()) or {}
    atomic_write_text(root / SPEC_FILE, yaml.safe_dump(deep_merge(raw, unflatten(over)), sort_keys=False))


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
        spec_path, spec = root / SPEC_FILE, load_spec(root / SPEC_FILE)
    previous = previous_trials(Path(args.warm_start), spec) if args.warm_start and not args.resume else []
    splits = load_splits(spec)
    create_dir(root)  # not before: bad input must leave no trace
    if not args.resume:
        save_spec(root, spec_path, over)
        if previous:
            atomic_write_text(ExperimentFolder(root).warm_start, json.dumps(previous))

    # Imports Ray: only once the input is known to be good.
    from search.runtime.console import quiet_console
    from search.runtime.experiment import INTERRUPTED, STOPPED_BY, TERMINATED, run_experiment

    with quiet_console(ExperimentFolder(root).ray_log, args.verbose) as log:
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


def forget(root: Path) -> None:
    """Undo an experiment that never started: only its saved space, warm start and Ray's log are in the folder."""
    folder = ExperimentFolder(root)
    for path in (folder.spec, folder.warm_start, folder.ray_log):
        path.unlink(missing_ok=True)
    if not any(root.iterdir()):
        root.rmdir()


def resume_command(args: argparse.Namespace, spec: SearchSpec) -> str:
    address = f" --address {args.address}" if args.address else ""
    return f"python -m search.run {args.space} --name {spec.name} --results {args.results}{address} --resume"


if __name__ == "__main__":
    sys.exit(main())
