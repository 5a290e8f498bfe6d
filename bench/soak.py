"""Soak: many tiny trials through one search, to show the driver and the cluster hold steady.

Runs `spaces/smoke.yaml` as one search of N trials (default 200) on a local Ray cluster, ASHA on, no
retraining, and prints trials per minute, the driver's memory over the run (resident set size sampled
every second: flat means no growth per trial) and whether any CPU/GPU or placement group was still
held at the end.

    python bench/soak.py [--trials 200] [--epochs 2] [--concurrent 2] [--distributed]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ray
from ray.util.placement_group import placement_group_table

from search.api import ExperimentFolder, cluster, load_spec, load_splits, run_experiment
from search.runtime.cluster import leaked_resources

SMOKE = Path(__file__).resolve().parents[1] / "spaces" / "smoke.yaml"


class MemorySampler:
    """The driver's resident memory every ``every_s`` seconds, with the time it was taken."""

    def __init__(self, every_s: float = 1.0) -> None:
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def _run(self, every_s: float) -> None:
        me = psutil.Process()
        while not self.stopped.wait(every_s):
            self.samples.append((time.monotonic(), me.memory_info().rss))

    def __enter__(self) -> MemorySampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()


def live_placement_groups() -> int:
    return sum(pg["state"] != "REMOVED" for pg in placement_group_table().values())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--concurrent", type=int, default=2)
    p.add_argument("--distributed", action="store_true", help="trials as distributed Train runs (resources.distributed)")
    args = p.parse_args()
    spec = load_spec(
        SMOKE,
        {
            "search.num_samples": args.trials,
            "search.max_concurrent_trials": args.concurrent,
            "scheduler.max_t": args.epochs,
            "retrain.top_k": 0,
            "resources.distributed": args.distributed,
        },
    )
    splits = load_splits(spec)
    with tempfile.TemporaryDirectory() as tmp, cluster(), MemorySampler() as memory:
        start = time.monotonic()
        code = run_experiment(spec, splits, Path(tmp))
        wall = time.monotonic() - start
        held, pgs = leaked_resources(timeout_s=30), live_placement_groups()
        statuses = ExperimentFolder(Path(tmp)).read_leaderboard()["status"].str.split(" at ").str[0].value_counts().to_dict()

    mib = [rss / 2**20 for _, rss in memory.samples]
    quarter = max(1, len(mib) // 4)
    quarters = [sum(q) / len(q) for q in (mib[i : i + quarter] for i in range(0, quarter * 4, quarter)) if q]
    path = "distributed Train runs" if args.distributed else "in-process"
    print(
        f"ray {ray.__version__}; {args.trials} trials ({path}) of up to {args.epochs} epochs, {args.concurrent} at a time; exit code {code}"
    )
    print(f"trials: {statuses}")
    print(f"wall {wall / 60:.1f} min: {args.trials / wall * 60:.1f} trials/minute")
    print(
        f"driver memory (RSS): peak {max(mib):.0f} MiB; mean of each quarter of the run: "
        + ", ".join(f"{q:.0f}" for q in quarters)
        + f" MiB ({quarters[-1] / quarters[0] - 1:+.1%} first to last quarter)"
    )
    print(f"held at the end: resources {held or 'none'}, live placement groups {pgs}")
    print("verdict: " + ("no leak" if not held and not pgs else "LEAK"))


if __name__ == "__main__":
    main()
