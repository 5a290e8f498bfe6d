"""Per-trial overhead of a search: K configs through Ray Tune + Train vs sequentially in one process.

(a) runs `spaces/smoke.yaml` as a search of K random trials, one at a time, no early stopping, each a
Ray Train run; (b) trains the same K trial configs one after the other with the plain trainer. Prints
both wall times, the overhead per trial and where it goes, from the start-up marks each trial reports.

    python bench/search_overhead.py [--trials 4] [--epochs 3]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ray
import torch

from search.run import load_splits
from search.runtime.cluster import ray_cluster
from search.runtime.experiment import run_experiment
from search.space.spec import load_spec, parse_trial_config
from training.trainer import train

SMOKE = Path(__file__).resolve().parents[1] / "spaces" / "smoke.yaml"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=4)
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args()
    spec = load_spec(SMOKE, {
        "search.num_samples": args.trials, "search.max_concurrent_trials": 1,
        "scheduler": {"name": "none", "max_t": args.epochs}, "searcher.name": "random",
        "retrain.top_k": 0,  # the search alone: retraining is not per-trial overhead
    })
    splits = load_splits(spec)

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with ray_cluster(None):
            cluster_start = time.perf_counter() - start
            search_start = time.perf_counter()
            assert run_experiment(spec, splits, Path(tmp), address=None, resume=False) == 0
            search_wall = time.perf_counter() - search_start
        configs = [spec.trial_config(json.loads(f.read_text())) for f in sorted(Path(tmp, "tune").glob("*/params.json"))]
        rows = pd.DataFrame([
            {**json.loads(line), "trial": f.parent.name}
            for f in Path(tmp, "tune").glob("*/result.json") for line in f.read_text().splitlines() if line.strip()
        ])

    torch.set_num_threads(1)  # as in a trial's worker (cpus_per_worker: 1)
    start = time.perf_counter()
    for config in configs:
        train(parse_trial_config(config), splits["train"], splits["val"])
    plain_wall = time.perf_counter() - start

    first = rows.sort_values("epoch").groupby("trial").first()
    last = rows.sort_values("epoch").groupby("trial").last()
    training = rows.groupby("trial")["seconds"].sum()
    driver_to_worker = (first["t_worker"] - first["t_driver"]).mean()
    worker_setup = (first["t_ready"] - first["t_worker"]).mean()
    per_trial = (search_wall - plain_wall) / len(configs)
    span = (last["timestamp"] - first["t_driver"]).mean()  # driver start to last report (1 s resolution)
    print(f"ray {ray.__version__}, torch {torch.__version__}; {len(configs)} trials x {args.epochs} epochs, one at a time")
    print(f"local Ray cluster start (once per search): {cluster_start:6.1f} s")
    print(f"(a) search.run, Ray Tune + Train:         {search_wall:6.1f} s")
    print(f"(b) plain trainer, one process:           {plain_wall:6.1f} s")
    print(f"overhead per trial: {per_trial:.1f} s   ratio (a)/(b): {search_wall / plain_wall:.2f}x")
    print("where a trial's time goes (mean per trial):")
    print(f"  trial actor + Train controller + worker start (driver -> train loop): {driver_to_worker:5.1f} s")
    print(f"  worker imports, data fetch from the object store, set-up:            {worker_setup:5.1f} s")
    print(f"  training and evaluation (epochs):                                    {training.mean():5.1f} s")
    print(f"  reporting and checkpoints (driver start to last report, less above):  {span - driver_to_worker - worker_setup - training.mean():5.1f} s")
    print(f"  tear-down and scheduling of the next trial (the rest):               "
          f"{search_wall / len(configs) - span:5.1f} s")


if __name__ == "__main__":
    main()
