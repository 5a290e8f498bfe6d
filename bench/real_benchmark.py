"""Hand-tuned models vs TPE + ASHA vs random search on the real data, under one budget of work (issues #5, #21).

1. trains the reports' hand-tuned models (``spaces/seeds.yaml`` presets) with their settings, ``--seeds``
   seeds each, the way the product retrains a search's best: on train + validation, final weights;
2. searches ``spaces/fusion.yaml`` (ranked by its metric, val_robust_f1) with TPE + ASHA under a budget no
   larger than step 1's work, and retrains its best with the same seeds;
3. the same with random search and no early stopping;
4. the same as 2 ranked by clean val_f1 (``search.run --metric val_f1``): what the robust metric buys;
5. the same as 2 with two objectives, ``{val_robust_f1: max, latency_ms: min}`` (TPE + the multi-objective ASHA),
   retraining up to four members spread along its Pareto front (issue #19, ``bench/benchmark_front.py``).

Every model is evaluated on the labelled test set, clean and with its audio replaced by noise, its image
blanked, and Gaussian noise on both (``serving.evaluate.evaluate_model``), and its latency measured as a search
measures it. Writes ``--out`` (a Markdown table, the machine, the settings, the two targets' verdicts, the
front) and, beside it, the best-so-far validation F1 versus work curves and the F1-latency plane as PNGs and
the front as CSV. Experiments land in ``--results`` (one folder each, git-ignored).

"Work" is the sample-epochs the trials' epochs report (``search.budget_sample_epochs``, the same on any machine
under any load; bench/spending.py says how wall and CPU seconds are reported beside it). Each search does at
most step 1's work; trials' start-up is counted in neither.

The defaults (half the training data, 6 epochs, 3 seeds) are sized for 2 CPU cores and no GPU: 17 to 22
minutes on a 2-core Intel Xeon machine (load average 2 to 30) and 60 on a 2-core AMD EPYC one when every trial
was a distributed Train run; 47 minutes on that AMD machine with trials training in-process.
``--max-train 0`` uses all 8,000 training samples.

    python bench/real_benchmark.py [--data ../shared/datasets/avdigits] [--max-train 4000] [--epochs 6]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optuna
import ray
import torch

from bench.benchmark_report import write_report
from bench.benchmark_rows import CORRUPTED, Outcome, Row
from bench.spending import search_limit, step1_facts
from common.atomic import atomic_write_text
from common.constants import INTERRUPTED
from data_utils import Split, load_dataset, train_val_split
from models.classifier import count_parameters
from search.api import ExperimentFolder, cluster, load_spec, new_experiment, run_experiment, validation_split
from serving.evaluate import evaluate_model
from serving.export import ExportedClassifier
from serving.footprint import footprint

SPACES = ROOT / "spaces"
FACTS_FILE = "benchmark.json"  # in --results: the settings and what a run measured beyond its experiment folders
SETTINGS = ("data", "results", "max_train", "max_test", "epochs", "seeds", "max_trials", "startup_trials", "budget_minutes")
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "avdigits"
SEARCH_SPACE = "fusion.yaml"
PARETO_GOALS = {"val_robust_f1": "max", "latency_ms": "min"}  # issue #19: accuracy against deployment cost
FRONT_MEMBERS = 4  # front members the multi-objective search retrains and the report scores on the test set
SEARCHES = {  # experiment name -> (overrides on top of the common ones, table label)
    "tpe_asha": ({}, "search: TPE + ASHA best, retrained"),
    "random": ({"searcher.name": "random", "scheduler.name": "none"}, "search: random, no early stopping, best, retrained"),
    "plain": ({"search.metric": "val_f1"}, "search: TPE + ASHA on clean val_f1 best, retrained"),
    "pareto": (
        {"search.metric": None, "search.mode": None, "search.objectives": PARETO_GOALS, "retrain.top_k": FRONT_MEMBERS},
        "search: TPE + MOASHA on val_robust_f1 and latency_ms, front member",
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="Kaggle/Zenodo folder with a labelled test set")
    p.add_argument(
        "--results", default=str(ROOT / "bench" / "results" / "real_benchmark"), help="experiment folders (must be empty)"
    )
    p.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "real_benchmark.md"), help="the report; the PNG goes beside it"
    )
    p.add_argument("--max-train", type=int, default=4000, help="training samples used (before the validation split); 0: all")
    p.add_argument("--max-test", type=int, default=0, help="test samples used; 0: all")
    p.add_argument("--epochs", type=int, default=6, help="epochs of every run (the presets' published budget is 15)")
    p.add_argument("--seeds", type=int, default=3, help="seeds of every trained model")
    p.add_argument("--max-trials", type=int, default=500, help="trials per search at most (the budget usually ends it first)")
    p.add_argument("--startup-trials", type=int, default=8, help="random trials before TPE takes over (the space files: 16)")
    p.add_argument("--budget-minutes", type=float, help="wall budget of each search (default: step 1's work)")
    p.add_argument(
        "--report-only", action="store_true", help="rewrite --out from a finished benchmark in --results; train nothing"
    )
    return p.parse_args(argv)


def stratified_subset(split: Split, n: int, seed: int = 0) -> Split:
    """``n`` samples of ``split``, every class in proportion (the product's stratified splitter's held part)."""
    if not 0 < n < len(split):
        return split
    return train_val_split(split, n / len(split), seed)[1]


def split_data(space: str, pool: Split) -> tuple[Split, Split]:
    """(train, validation) of ``pool`` as the space file's data section splits it."""
    return validation_split(load_spec(SPACES / space).data, pool)


def common_overrides(args: argparse.Namespace, slots: int) -> dict[str, Any]:
    return {"data.source": str(Path(args.data).resolve()), "scheduler.max_t": args.epochs, "search.max_concurrent_trials": slots}


def run(space: str, name: str, over: dict[str, Any], splits: dict[str, Any], results: Path) -> float:
    """One experiment through the product's own driver, in RESULTS/NAME; returns its wall seconds."""
    over = {**over, "name": name}
    spec = load_spec(SPACES / space, over)
    root = results / name
    new_experiment(root, SPACES / space, over)
    print(f"\n=== {name}: {space} {json.dumps({k: v for k, v in over.items() if k != 'data.source'})}", flush=True)
    start = time.perf_counter()
    code = run_experiment(spec, splits, root)
    if code == INTERRUPTED:
        sys.exit(f"interrupted: {name} stopped; the benchmark's results so far are in {results}")
    if code != 0:
        print(f"warning: {name} ended with exit code {code}; its rows may be missing", flush=True)
    return time.perf_counter() - start


def seconds(folder: ExperimentFolder, key: str = "seconds") -> float:
    """The wall seconds of the epochs of an experiment's trials (``key`` "cpu_seconds": their CPU seconds)."""
    return sum(r.get(key, 0.0) for t in folder.trial_ids() for r in folder.history(t))


def evaluate_run(folder: ExperimentFolder, trial_id: str, test: Split, row: Row) -> None:
    """Add to ``row`` the test scores of a trial's final weights, clean and corrupted, its parameter count,
    its latency (``serving.footprint``: as a search measures it, batch 1, one thread) and its CPU seconds."""
    model, pre = folder.final_model(trial_id)
    scores = evaluate_model(ExportedClassifier(pre, model).eval(), test, ("clean", *CORRUPTED), seed=0)
    row.scores.append(scores["corruptions"])
    row.params = count_parameters(model)
    row.latency_ms.append(footprint(model, pre, ("latency_ms",))["latency_ms"])
    row.train_seconds.append(sum(r.get("cpu_seconds", 0.0) for r in folder.history(trial_id)))


def preset_rows(folder: ExperimentFolder, presets: list[str], test: Split) -> list[Row]:
    """One row per preset of ``presets`` that trained, its seeds' runs evaluated."""
    rows: dict[str, Row] = {}
    for trial_id in folder.trial_ids():
        if folder.history(trial_id):
            preset = folder.trial_params(trial_id)["preset"]
            evaluate_run(folder, trial_id, test, rows.setdefault(preset, Row(f"hand-tuned: {preset}")))
    return [rows[name] for name in presets if name in rows]


def retrained_rows(label: str, folder: ExperimentFolder, test: Split) -> list[Row]:
    """The trials the product retrained after the search (retrain.json), best first, one row each (several:
    ``label`` followed by the trial id)."""
    retrained = folder.read_retrained()
    if retrained is None:
        return []
    source = {r["run"]: r["source"] for r in retrained["runs"]}  # the product's own run names, best config first
    sources = list(dict.fromkeys(source.values()))
    search_cpu = seconds(folder, "cpu_seconds")
    rows = {s: Row(label if len(sources) == 1 else f"{label} {s}", search_seconds=search_cpu, trial=s) for s in sources}
    runs = ExperimentFolder(folder.retrain)
    for trial_id in runs.trial_ids():
        run = runs.trial_params(trial_id)["run"]
        if run in source:
            evaluate_run(runs, trial_id, test, rows[source[run]])
    return [row for row in rows.values() if row.scores]


def cpu_model() -> str:
    info = Path("/proc/cpuinfo")
    names = (
        [line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if line.startswith("model name")]
        if info.is_file()
        else []
    )
    return names[0] if names else platform.processor() or "unknown"


def machine() -> dict[str, str]:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {
        "CPU": f"{cpu_model()}, {os.cpu_count()} cores",
        "RAM": f"{ram:.0f} GiB",
        "GPU": gpu,
        "OS": platform.platform(),
        "versions": f"python {platform.python_version()}, torch {torch.__version__}, ray {ray.__version__}, optuna {optuna.__version__}",
    }


def load_data(data: str, max_train: int, max_test: int) -> tuple[str, Split, Split]:
    """(source, training pool, test split), both cut to size the same way on every call."""
    dataset = load_dataset(data)
    if dataset.test is None or dataset.test.labels is None:
        sys.exit(f"error: {data} has no labelled test set")
    return dataset.source, stratified_subset(dataset.train, max_train), stratified_subset(dataset.test, max_test)


def run_benchmark(args: argparse.Namespace, results: Path) -> dict[str, Any]:
    """Steps 1 to 4, on one Ray cluster; returns (and saves) the run's facts."""
    started, load_start = time.perf_counter(), os.getloadavg()
    source, pool, test = load_data(args.data, args.max_train, args.max_test)
    print(f"data: {source}: {len(pool)} training samples (train + validation), {len(test)} test samples", flush=True)
    walls: dict[str, float] = {}
    with cluster():
        slots = int(ray.cluster_resources().get("CPU", 1))  # trials at once: one CPU each (the space files)
        common = common_overrides(args, slots)
        # Step 1, trained like the product's retraining of a search's best (search.runtime.retrain): on train +
        # validation, final weights; the test split is only scored after each epoch, it selects nothing.
        train, val = split_data("seeds.yaml", pool)
        step1 = {"train": train.concat(val), "val": test, "test": None, "source": source}
        walls["presets"] = run("seeds.yaml", "presets", {**common, "search.num_samples": args.seeds}, step1, results)
        budget = seconds(ExperimentFolder(results / "presets"))
        if not budget:
            sys.exit(f"error: step 1 trained nothing; see {results / 'presets'}")
        spend = {
            "budget_s": budget,
            "wall_budget_s": args.budget_minutes * 60 if args.budget_minutes else None,
            **step1_facts(results / "presets"),
        }
        limit = search_limit(spend)
        print(f"\nstep 1: {budget:.0f} s of epochs; each search gets {json.dumps(limit)}, {slots} trials at once", flush=True)
        train, val = split_data(SEARCH_SPACE, pool)
        scheduler = load_spec(SPACES / SEARCH_SPACE).scheduler
        grace = max(1, scheduler.grace_period * args.epochs // scheduler.max_t)  # the file's ratio, for fewer epochs
        splits = {"train": train, "val": val, "test": test, "source": source}
        for name, (over, _) in SEARCHES.items():
            search_over = {
                **common,
                "search.num_samples": args.max_trials,
                **limit,
                "scheduler.grace_period": grace,
                "searcher.n_startup_trials": args.startup_trials,
                "retrain.seeds": args.seeds,
                "retrain.ablation": False,
                **over,
            }
            walls[name] = run(SEARCH_SPACE, name, search_over, splits, results)
    facts = {
        "settings": {k: getattr(args, k) for k in SETTINGS},
        "source": source,
        "pool": len(pool),
        "test": len(test),
        "slots": slots,
        **spend,
        "walls_s": walls,
        "wall_s": time.perf_counter() - started,
        "load": [load_start, os.getloadavg()],
        "machine": machine(),
    }
    atomic_write_text(results / FACTS_FILE, json.dumps(facts, indent=1))
    return facts


def collect(facts: dict[str, Any], results: Path) -> Outcome:
    """Every model of the table evaluated on the test set, from the experiment folders."""
    settings = facts["settings"]
    _, _, test = load_data(settings["data"], settings["max_train"], settings["max_test"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # latency with the threads a trial has (one CPU each, the space files)
    try:
        presets = ExperimentFolder(results / "presets")
        outcome = Outcome(facts, preset_rows(presets, list(load_spec(presets.spec).presets), test), presets.root)
        for name, (_, label) in SEARCHES.items():
            folder = ExperimentFolder(results / name)
            outcome.specs[name] = (load_spec(folder.spec), folder.root)
            rows = retrained_rows(label, folder, test)
            if not rows:
                print(f"warning: {name}: no retrained model", flush=True)
            else:
                outcome.searched[name] = rows
    finally:
        torch.set_num_threads(threads)
    return outcome


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = Path(args.results).resolve()
    if args.report_only:
        if not (results / FACTS_FILE).is_file():
            sys.exit(f"error: no finished benchmark in {results} (no {FACTS_FILE})")
        facts = json.loads((results / FACTS_FILE).read_text())
    else:
        if results.is_dir() and any(results.iterdir()):
            sys.exit(f"error: {results} is not empty; remove it, pass another --results, or add --report-only")
        facts = run_benchmark(args, results)
    write_report(collect(facts, results), Path(args.out).resolve())


if __name__ == "__main__":
    main()
