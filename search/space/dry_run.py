"""``python -m search.run SPACE.yaml --dry-run``: what a search would do, without starting Ray.

It validates the space (``search.run`` already did), prints its parameters with their conditions, a few
sampled configs with their parameter counts, the resources of one trial, and an estimate of the search's
cost from timing a few batches of each sampled config on this machine. Nothing here imports Ray.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import statistics
from typing import Any

import numpy as np

from data_utils.loaders import Split
from search.space.params import Param, RecordingSuggester, sample
from search.space.spec import SearchSpec, parse_trial_config

# A Ray Tune trial that runs a Ray Train run costs about this much more than its epochs on 2 CPU cores
# (README, bench/search_overhead.py): its start-up processes, not its training.
TRIAL_OVERHEAD_S = 8.0
TIMED_BATCHES = 8  # per sampled config: the estimate's training subset


def describe_param(p: Param) -> str:
    if p.kind == "choice":
        what = f"choice {list(p.choices)}"
    elif p.kind == "quniform":
        what = f"quniform [{p.low:g}, {p.high:g}] step {p.step:g}"
    else:
        what = f"{p.kind} [{p.low:g}, {p.high:g}]" + (" log" if p.log else "") + (f" step {p.step:g}" if p.step else "")
    when = " and ".join(f"{k} in {list(v)}" for k, v in p.when)
    return f"  {p.key}: {what}" + (f", one per {p.repeat}" if p.repeat else "") + (f"  (when {when})" if when else "")


def sampled_configs(spec: SearchSpec, n: int, seed: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(what was drawn, full trial config) of ``n`` configs the search could run: random draws, or its first presets."""
    if spec.presets:
        return [(f"preset {name}", spec.trial_config({"preset": name})) for name in list(spec.presets)[:n]]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        values = sample(list(spec.params), RecordingSuggester(rng))
        shown = " ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items() if not k.startswith("_")
        )
        out.append((shown, spec.trial_config(values)))
    return out


def parameter_count(config: dict[str, Any]) -> int:
    from data_utils.preprocess import audio_shape
    from models.classifier import build_model, count_parameters

    trial = parse_trial_config(config)
    return count_parameters(build_model(trial.model, audio_shape(trial.preprocess.audio_layout)))


def epoch_seconds(config: dict[str, Any], train: Split, val: Split, threads: int) -> float:
    """One epoch's training + evaluation seconds on ``train`` and ``val``, from a second epoch on a subset
    of ``TIMED_BATCHES`` batches (the first pays warm-up), scaled to the full splits."""
    import torch

    from training.trainer import train as train_model

    config = copy.deepcopy(config)
    config["train"]["epochs"] = 2
    trial = parse_trial_config(config)
    n = min(len(train), TIMED_BATCHES * trial.train.batch_size)
    m = max(10, round(len(val) * n / len(train)))
    torch.set_num_threads(threads)
    history = train_model(trial, train.subset(np.arange(n)), val.subset(np.arange(min(m, len(val))))).history
    return history[-1]["seconds"] * len(train) / n


def asha_epochs(spec: SearchSpec) -> float:
    """Epochs a trial runs on average when ASHA stops all but 1/reduction_factor at each rung."""
    sc = spec.scheduler
    if sc.name != "asha":
        return float(sc.max_t)
    rungs, epoch = [], sc.grace_period
    while epoch < sc.max_t:
        rungs.append(epoch)
        epoch *= sc.reduction_factor
    rungs.append(sc.max_t)
    return rungs[0] + sum((b - a) / sc.reduction_factor ** (k + 1) for k, (a, b) in enumerate(itertools.pairwise(rungs)))


def dry_run(spec: SearchSpec, splits: dict[str, Any], samples: int = 3) -> None:
    """Print what ``spec`` would search and an estimate of its cost on this machine."""
    res = spec.resources
    print(
        f"\nspace {spec.name}: "
        + (
            f"{len(spec.presets)} presets x {spec.search.num_samples} seeds"
            if spec.presets
            else f"{len(spec.params)} parameters, sampled in this order"
        )
    )
    for p in spec.params:
        print(describe_param(p))
    print(
        f"\none trial: {res.workers_per_trial} worker(s) x {res.cpus_per_worker:g} CPU"
        f" (+ GPU: {res.gpus_per_worker}), up to {spec.scheduler.max_t} epochs; "
        f"{spec.search.max_concurrent_trials} trials at a time at most"
    )
    threads = max(1, int(res.cpus_per_worker))
    seconds = []
    print(f"\n{samples} sampled configs (timed on {TIMED_BATCHES} batches each, {threads} thread(s)):")
    for label, config in sampled_configs(spec, samples, spec.searcher.seed):
        s = epoch_seconds(config, splits["train"], splits["val"], threads)
        seconds.append(s)
        print(f"  {parameter_count(config):>9,} parameters, ~{s:.2f} s/epoch: {label}")
    trials = spec.search.num_samples * max(1, len(spec.presets))
    epochs = asha_epochs(spec)
    cpus = os.cpu_count() or 1
    parallel = max(
        1, min(spec.search.max_concurrent_trials, cpus // max(1, math.ceil(res.cpus_per_worker * res.workers_per_trial)))
    )
    compute = trials * epochs * statistics.mean(seconds)
    wall = (compute + trials * TRIAL_OVERHEAD_S) / parallel
    if spec.search.time_budget_s:
        wall = min(wall, spec.search.time_budget_s)
    r = spec.retrain
    runs = r.top_k * r.seeds + (2 * r.seeds if r.ablation and r.top_k else 0)  # the best's image_only and audio_only
    retrain = (
        runs * (TRIAL_OVERHEAD_S + spec.scheduler.max_t * statistics.mean(seconds) * 1.2) / parallel
    )  # on train + validation: a larger split
    print(
        f"\nestimate: {trials} trials x ~{epochs:.1f} epochs each ({spec.scheduler.name}) x ~{statistics.mean(seconds):.2f} s/epoch "
        f"= ~{compute:.0f} s of training; with ~{TRIAL_OVERHEAD_S:g} s start-up per trial and {parallel} trial(s) at a time "
        f"on this machine's {cpus} CPUs: ~{wall / 60:.1f} min for the search, then ~{retrain / 60:.1f} min retraining "
        f"({runs} runs of {spec.scheduler.max_t} epochs)."
    )
    print("dry run: no Ray started, nothing written")
