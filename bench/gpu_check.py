"""The GPU check (issue 20): trainer throughput, an epoch's time and a fractional-GPU search, on one GPU.

Measures, on 48,000 training samples (the Kaggle training size: the data's training split tiled):
1. samples/s of report 1's model C (the `report1_c` preset of spaces/seeds.yaml) and of the real-data benchmark's winner (bench/results/real_benchmark.md) at batch 32 and 256,
   our trainer against the seeds' DataLoader loop (`bench/throughput.py`'s `reference`) on the same device;
   and an epoch's time (training + the per-epoch validation passes);
2. a 3-minute `spaces/fusion.yaml` search, TPE + ASHA, `gpus_per_worker: auto` (one-worker trials sharing the
   GPU): trials per hour, the GPU's busy share sampled while it runs (bench/gpu_sampler.py), the trials'
   start-up, the GPU's peak memory.
Targets: an epoch of report1_c within 1 s; >= 1,000 fusion.yaml trials per hour with the GPU busy >= 70%.
Writes OUT/gpu.json and OUT/gpu.md (default bench/results/), planned for about 6 minutes on one H200 with 16 cores (not yet run there).

    python bench/gpu_check.py --dry-run --out /tmp/x   # CPU: the plan, every step set up, nothing long run
    python bench/gpu_check.py [--data DIR]             # on a GPU machine

On this workplace's device machine (no network; its python3 holds torch but not Ray or Optuna): here, once,
`python bench/gpu_bundle.py` packs what is missing into .gpu/site.tar.xz (git-ignored, 44 MiB: the real data does
not fit beside it in a call's 64 MiB, so the device runs on the demo data, tiled), then one call of the device tool:

    command: tar -xJf .gpu/site.tar.xz -C /tmp && PYTHONPATH=/tmp/site:$PWD python3 bench/gpu_check.py --out $OUT
    carry: [".gpu/site.tar.xz"]    timeout_s: 560

and copy $OUT's gpu.json and gpu.md into bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.benchmark_report import reports, startup_seconds
from bench.gpu_report import markdown, targets, verdict
from bench.gpu_sampler import GpuSampler, sample_for
from bench.real_benchmark import machine
from bench.throughput import reference
from common.atomic import atomic_write_text
from data_utils import Split, load_dataset, train_val_split
from data_utils.preprocess import audio_shape
from models.classifier import build_model, count_parameters
from search.api import SearchSpec, load_spec, new_experiment, parse_trial_config, run_experiment, validation_split
from search.runtime.tuner import gpus_per_worker
from training.config import TrialConfig
from training.trainer import train

ROOT = Path(__file__).resolve().parents[1]
SEEDS, FUSION = ROOT / "spaces" / "seeds.yaml", ROOT / "spaces" / "fusion.yaml"
SAMPLES = 48_000
BATCHES = (32, 256)
REPORT1_C = "report1_c"  # report 1's model C
# The real-data benchmark's winner (bench/results/real_benchmark.md, trial 3310243e: 240,854 parameters); the fc
# widths and batch norm are the ones that give its parameter count, the rest as the report prints it.
WINNER = {
    "preprocess": {"audio_layout": "flat"},
    "model": {
        "image": {"name": "mlp", "fc": [256], "batch_norm": False},
        "audio": {"name": "mlp", "fc": [64, 64], "batch_norm": False},
        "fusion": {"name": "late"},
    },
    "augment": {"modality_dropout": 0.464},
    "train": {"optimizer": "adamw", "lr": 0.00699},
}
WINNER_PARAMS = 240_854


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="demo", help="a data folder, or demo (default; also when the folder is absent)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--samples", type=int, default=SAMPLES, help="training samples, the training split tiled")
    p.add_argument("--epochs", type=int, default=2, help="epochs per throughput run (the last one is the epoch timed)")
    p.add_argument("--search-s", type=float, default=180.0, help="the search's time budget")
    p.add_argument("--concurrent", type=int, help="trials at once (default: fusion.yaml's max_concurrent_trials)")
    p.add_argument(
        "--out", type=Path, help="where gpu.json and gpu.md go (default bench/results; a dry run writes only where told)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and set every step up; run nothing long")
    return p.parse_args(argv)


def tiled(split: Split, n: int) -> Split:
    """``n`` samples: ``split`` repeated (its first samples once more to make up the rest)."""
    return split.subset(np.arange(n) % len(split))


def trial_config(raw: dict[str, Any], batch: int, epochs: int) -> TrialConfig:
    raw = json.loads(json.dumps(raw))  # a copy
    raw.setdefault("train", {}).update(batch_size=batch, epochs=epochs)
    return parse_trial_config(raw)


def models() -> dict[str, dict[str, Any]]:
    """{label: raw trial config} of the two models measured."""
    return {REPORT1_C: load_spec(SEEDS).trial_config({"preset": REPORT1_C}), "benchmark winner": WINNER}


def throughput(
    label: str, raw: dict, batch: int, epochs: int, train_split: Split, val_split: Split, device: torch.device
) -> dict:
    """Our trainer and the reference loop on the same config, data and device; warmed up on a small subset first."""
    warm = train_split.subset(np.arange(min(2048, len(train_split))))
    train(trial_config(raw, batch, 1), warm, val_split, device=device)
    reference(trial_config(raw, batch, 1), warm, val_split, device)
    start = time.perf_counter()
    history = train(trial_config(raw, batch, epochs), train_split, val_split, device=device).history
    ours_s = time.perf_counter() - start
    ref_rate = reference(trial_config(raw, batch, epochs), train_split, val_split, device)
    row = {
        "model": label,
        "batch": batch,
        "ours_samples_s": epochs * len(train_split) / ours_s,
        "reference_samples_s": ref_rate,
        "epoch_s": history[-1]["seconds"],
        "params": history[-1]["params"],
    }
    row["ratio"] = row["ours_samples_s"] / ref_rate
    print(
        f"  {label:>18} b{batch:<4} ours {row['ours_samples_s']:>9,.0f}/s  reference {ref_rate:>9,.0f}/s  "
        f"{row['ratio']:.2f}x  epoch {row['epoch_s']:.2f} s",
        flush=True,
    )
    return row


def search(args: argparse.Namespace, pool: Split, source: str, root: Path) -> dict[str, Any]:
    """fusion.yaml for ``--search-s`` seconds on ``pool`` (split as the product splits it), the GPU sampled throughout."""
    spec, over = fusion_spec(args)
    train_split, val_split = validation_split(spec.data, pool)
    splits = {"train": train_split, "val": val_split, "test": None, "source": source}
    new_experiment(root, FUSION, over)
    start = time.perf_counter()
    sampler = GpuSampler()
    sampler.start()
    try:
        code = run_experiment(spec, splits, root)
    finally:
        gpu = sampler.stop()
    wall = time.perf_counter() - start
    history = reports(root)
    trials = int(history["trial"].nunique()) if not history.empty else 0
    epochs = history.groupby("trial")["epoch"].max() if trials else None
    return {
        "exit_code": code,
        "wall_s": wall,
        "trials": trials,
        "trials_per_hour": trials / wall * 3600,
        "trials_per_hour_of_budget": trials / args.search_s * 3600,
        "reached_max_t": int((epochs >= spec.scheduler.max_t).sum()) if trials else 0,
        "epochs": int(epochs.sum()) if trials else 0,
        "startup_s": startup_seconds(history),
        "train_eval_s": float(history["seconds"].sum()) if trials else 0.0,
        "gpus_per_trial": gpus_per_worker(spec, 1.0),
        "concurrent": spec.search.max_concurrent_trials,
        "train_samples": len(train_split),
        "val_samples": len(val_split),
        "gpu": gpu,
    }


def fusion_spec(args: argparse.Namespace) -> tuple[SearchSpec, dict[str, Any]]:
    over = {"search.time_budget_s": args.search_s, "search.num_samples": 100_000, "retrain.top_k": 0, "name": "gpu_check"}
    if args.concurrent:
        over["search.max_concurrent_trials"] = args.concurrent
    return load_spec(FUSION, over), over


def dry_run(
    args: argparse.Namespace, configs: dict, pool: Split, train_split: Split, val_split: Split, device: torch.device
) -> list[dict]:
    """Every step set up as the real run sets it up (configs, models, data, the search's spec and split, the sampler), and
    the throughput step run for each model at batch 32 on 64 samples (32 to validate) for one epoch; returns its rows."""
    for label, raw in configs.items():
        for batch in BATCHES:
            config = trial_config(raw, batch, args.epochs)
            model = build_model(config.model, audio_shape(config.preprocess.audio_layout)).to(device)
            print(f"  {label} b{batch}: {count_parameters(model):,} parameters on {device}")
    print(
        f"  the winner has the benchmark's {WINNER_PARAMS:,} parameters: "
        f"{count_parameters(build_model(trial_config(WINNER, 32, 1).model, audio_shape('flat'))) == WINNER_PARAMS}"
    )
    spec, _ = fusion_spec(args)
    train_split, search_val = validation_split(spec.data, pool)
    print(
        f"  search: {spec.name}, {spec.search.max_concurrent_trials} at once, {gpus_per_worker(spec, 1.0):g} GPU per trial on one GPU, "
        f"{len(train_split):,} train / {len(search_val):,} validation samples, {len(spec.params)} parameters"
    )
    print(f"  GPU sampler: {sample_for(0.2)}")
    toy, toy_val = train_split.subset(np.arange(64)), val_split.subset(np.arange(32))
    return [throughput(label, raw, BATCHES[0], 1, toy, toy_val, device) for label, raw in configs.items()]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    device = torch.device(args.device)
    source = args.data if args.data == "demo" or Path(args.data).is_dir() else "demo"
    dataset = load_dataset(source)
    pool = tiled(dataset.train, args.samples)
    train_split, val_split = train_val_split(tiled(dataset.train, len(dataset.train)), 0.1, 0)
    train_split = tiled(train_split, args.samples)
    configs = models()
    report1 = next(iter(configs))
    print(
        f"GPU check: {dataset.source}, {len(train_split):,} training samples, device {device}\n"
        f"1. throughput: {', '.join(configs)} at batch {' and '.join(map(str, BATCHES))}, {args.epochs} epochs, ours vs reference\n"
        f"2. spaces/fusion.yaml for {args.search_s:.0f} s, TPE + ASHA, fractional GPUs, the GPU sampled\n"
        f"outputs: {'(none: dry run)' if args.dry_run and not args.out else args.out or ROOT / 'bench' / 'results'}",
        flush=True,
    )
    out = args.out or (None if args.dry_run else ROOT / "bench" / "results")

    def write(rows: list[dict], search_result: dict | None) -> dict[str, Any]:
        result = {
            "data": dataset.source,
            "samples": len(train_split),
            "device": str(device),
            "search_s": args.search_s,
            "dry_run": args.dry_run,
            "machine": machine(),
            "throughput": rows,
            "search": search_result,
            "targets": targets(rows, search_result, report1, args.dry_run),
            "wall_s": time.perf_counter() - start,
        }
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out / "gpu.json", json.dumps(result, indent=1))
            atomic_write_text(out / "gpu.md", markdown(result))
            print(f"wrote {out / 'gpu.json'} and {out / 'gpu.md'}", flush=True)
        return result

    if args.dry_run:
        result = write(dry_run(args, configs, pool, train_split, val_split, device), None)
    else:
        rows = [
            throughput(label, raw, batch, args.epochs, train_split, val_split, device)
            for label, raw in configs.items()
            for batch in BATCHES
        ]
        write(rows, None)  # the throughput figures are kept should the search fail
        with tempfile.TemporaryDirectory() as results:
            result = write(rows, search(args, pool, dataset.source, Path(results) / "gpu_check"))
    print("\n".join(f"{t['what']}: {t['measured']}: {verdict(t['met'])}" for t in result["targets"]))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
