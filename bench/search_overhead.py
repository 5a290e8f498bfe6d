"""Per-trial overhead of a search, side by side: plain training in one process, trials that train in their Tune
trial's process (the default), and trials that are distributed Ray Train runs (``resources.distributed``).

The same K trial configs (random search, no early stopping, no retraining) run three ways:
(a) one after the other with the plain trainer, in this process; (b) as a search whose one-worker trials
train in-process, their Tune processes reused; (c) as a search of distributed Train runs. For each it
prints the wall time, the slot time per trial beyond its training and evaluation (the overhead; and that
less the plain trainer's own, which is model building and data set-up), the slot utilization (train +
eval seconds over wall x slots) and how many processes trained the trials.

    python bench/search_overhead.py [--trials 4] [--epochs 3] [--concurrent 1] [--space spaces/smoke.yaml]
    python bench/search_overhead.py --space spaces/fusion.yaml --trials 8 --epochs 6 --concurrent 2   # make run's size
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ray
import torch

from search.api import ExperimentFolder, SearchSpec, cluster, load_spec, load_splits, parse_trial_config, run_experiment
from training.trainer import train

SMOKE = Path(__file__).resolve().parents[1] / "spaces" / "smoke.yaml"
PATHS = {"(b) Tune, trials in-process": False, "(c) Tune, distributed Train runs": True}


def search(spec: SearchSpec, splits: dict, tmp: Path) -> tuple[float, pd.DataFrame, list[dict]]:
    """(wall seconds, every reported epoch, the trials' configs) of one search."""
    start = time.perf_counter()
    assert run_experiment(spec, splits, tmp) == 0
    wall = time.perf_counter() - start
    folder = ExperimentFolder(tmp)
    rows = pd.DataFrame([{**r, "trial": t} for t in folder.trial_ids() for r in folder.history(t)])
    return wall, rows, [spec.trial_config(folder.trial_params(t)) for t in folder.trial_ids()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=4)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--concurrent", type=int, default=1, help="trials at a time (slots)")
    p.add_argument("--space", default=str(SMOKE))
    args = p.parse_args()
    base = {
        "search.num_samples": args.trials,
        "search.max_concurrent_trials": args.concurrent,
        "scheduler": {"name": "none", "max_t": args.epochs},
        "searcher.name": "random",
        "retrain.top_k": 0,  # the search alone: retraining is not per-trial overhead
    }
    specs = {name: load_spec(args.space, {**base, "resources.distributed": distributed}) for name, distributed in PATHS.items()}
    splits = load_splits(next(iter(specs.values())))

    results = {}
    start = time.perf_counter()
    with cluster():
        cluster_start = time.perf_counter() - start
        for name, spec in specs.items():
            with tempfile.TemporaryDirectory() as tmp:
                results[name] = search(spec, splits, Path(tmp))
    configs = results[next(iter(PATHS))][2]

    torch.set_num_threads(1)  # as in a trial (cpus_per_worker: 1)
    start = time.perf_counter()
    plain = pd.DataFrame(
        [
            {**r, "trial": str(i)}
            for i, config in enumerate(configs)
            for r in train(parse_trial_config(config), splits["train"], splits["val"]).history
        ]
    )
    results = {"(a) plain trainer, one process": (time.perf_counter() - start, plain, configs), **results}

    print(
        f"ray {ray.__version__}, torch {torch.__version__}; {Path(args.space).name}: {len(configs)} trials x {args.epochs} epochs, "
        f"{args.concurrent} at a time; local Ray cluster start (once per search): {cluster_start:.1f} s"
    )
    print(f"{'':34} {'wall s':>7} {'overhead/trial s':>17} {'less plain s':>13} {'slot utilization':>17} {'processes':>10}")
    plain_overhead = None
    for name, (wall, rows, _) in results.items():
        slots = 1 if name.startswith("(a)") else args.concurrent
        trained = rows["seconds"].sum()
        overhead = (wall * slots - trained) / rows["trial"].nunique()
        plain_overhead = overhead if plain_overhead is None else plain_overhead
        processes = rows["pid"].nunique() if "pid" in rows else 1
        print(
            f"{name:34} {wall:7.1f} {overhead:17.2f} {overhead - plain_overhead:13.2f} {trained / (wall * slots):17.2f} {processes:10d}"
        )
    print("where a Tune trial's time goes before its first epoch (mean per trial):")
    for name, (_, rows, _) in list(results.items())[1:]:
        first = rows.sort_values("epoch").groupby("trial").first()
        print(
            f"  {name}: trial start -> train loop {(first['t_worker'] - first['t_driver']).mean():5.2f} s, "
            f"train loop set-up (imports, data, model) {(first['t_ready'] - first['t_worker']).mean():5.2f} s"
        )


if __name__ == "__main__":
    main()
