"""Hand-tuned models vs TPE + ASHA vs random search on the real data, under one budget of work (issues #5, #21).

1. trains the reports' hand-tuned models (``spaces/seeds.yaml`` presets) with their settings, ``--seeds``
   seeds each, the way the product retrains a search's best: on train + validation, final weights;
2. searches ``spaces/fusion.yaml`` (ranked by its metric, val_robust_f1) with TPE + ASHA under a budget no
   larger than step 1's work, and retrains its best with the same seeds;
3. the same with random search and no early stopping;
4. the same as 2 ranked by clean val_f1 (``search.run --metric val_f1``): what the robust metric buys.

Every model is evaluated on the labelled test set, clean and with its audio replaced by noise, its image
blanked, and Gaussian noise on both (``search.evaluate.evaluate_model``). Writes ``--out`` (a Markdown
table, the machine, the settings, the two targets' verdicts) and, beside it, the best-so-far validation F1
versus work curves as a PNG. Experiments land in ``--results`` (one folder each, git-ignored).

"Work" is the sample-epochs the trials' epochs report (``search.budget_sample_epochs``, the same on any machine
under any load; bench/spending.py says how wall and CPU seconds are reported beside it). Each search does at
most step 1's work; trials' start-up is counted in neither.

The defaults (half the training data, 6 epochs, 3 seeds) are sized for 2 CPU cores and no GPU: 17 to 22
minutes on a 2-core Intel Xeon machine (load average 2 to 30), 60 minutes on a 2-core AMD EPYC one.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optuna
import ray
import torch

from bench.spending import WORK, budget_text, search_limit, spent, step1_facts
from data_utils import Split, load_dataset, train_val_split
from models.classifier import count_parameters
from search.artifacts import atomic_write_text
from search.budget import short
from search.cluster import ray_cluster
from search.evaluate import evaluate_model
from search.experiment import INTERRUPTED, run_experiment
from search.export import ExportedClassifier
from search.leaderboard import TUNE_DIR, read_history, trial_table
from search.plots import save_png
from search.retrain import RETRAIN_DIR, concat, load_final_model, retrain_runs
from search.run import SPEC_FILE, save_spec, validation_split
from search.spec import SearchSpec, load_spec
from search.tensorboard import flatten
from search.tuner import TRAIN_DIR
from search.worker import CHECKPOINT_FILE

SPACES = ROOT / "spaces"
FACTS_FILE = "benchmark.json"  # in --results: the settings and what a run measured beyond its experiment folders
SETTINGS = ("data", "results", "max_train", "max_test", "epochs", "seeds", "max_trials", "startup_trials", "budget_minutes")
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "avdigits"
CORRUPTED = ("audio_noise", "image_blank", "gaussian")
SEARCH_SPACE = "fusion.yaml"
SEARCHES = {  # experiment name -> (overrides on top of the common ones, table label)
    "tpe_asha": ({}, "search: TPE + ASHA best, retrained"),
    "random": ({"searcher.name": "random", "scheduler.name": "none"}, "search: random, no early stopping, best, retrained"),
    "plain": ({"search.metric": "val_f1"}, "search: TPE + ASHA on clean val_f1 best, retrained"),
}
CURVE_LABELS = {"tpe_asha": "TPE + ASHA", "random": "random, no early stopping", "plain": "TPE + ASHA on clean val_f1"}
SUMMARY = {"layout": "preprocess.audio_layout", "image": "model.image.name", "audio": "model.audio.name",
           "fusion": "model.fusion.name", "optimizer": "train.optimizer", "lr": "train.lr", "batch": "train.batch_size",
           "modality dropout": "augment.modality_dropout"}  # what tells a search's best apart, in its summary line


@dataclass
class Row:
    """One line of the table: a model trained with several seeds."""

    label: str
    scores: list[dict[str, dict[str, float]]] = field(default_factory=list)  # per seed: {corruption: {accuracy, f1}}
    params: int = 0
    train_seconds: list[float] = field(default_factory=list)  # per seed
    search_seconds: float | None = None

    def mean_std(self, corruption: str, metric: str) -> tuple[float, float]:
        values = [s[corruption][metric] for s in self.scores]
        std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0  # the sample std: 3 seeds are a small sample
        return float(np.mean(values)), std


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="Kaggle/Zenodo folder with a labelled test set")
    p.add_argument("--results", default=str(ROOT / "bench" / "results" / "real_benchmark"), help="experiment folders (must be empty)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "real_benchmark.md"), help="the report; the PNG goes beside it")
    p.add_argument("--max-train", type=int, default=4000, help="training samples used (before the validation split); 0: all")
    p.add_argument("--max-test", type=int, default=0, help="test samples used; 0: all")
    p.add_argument("--epochs", type=int, default=6, help="epochs of every run (the presets' published budget is 15)")
    p.add_argument("--seeds", type=int, default=3, help="seeds of every trained model")
    p.add_argument("--max-trials", type=int, default=500, help="trials per search at most (the budget usually ends it first)")
    p.add_argument("--startup-trials", type=int, default=8, help="random trials before TPE takes over (the space files: 16)")
    p.add_argument("--budget-minutes", type=float, help="wall budget of each search (default: step 1's work)")
    p.add_argument("--report-only", action="store_true", help="rewrite --out from a finished benchmark in --results; train nothing")
    return p.parse_args()


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
    root.mkdir(parents=True)
    save_spec(root, SPACES / space, over)
    print(f"\n=== {name}: {space} {json.dumps({k: v for k, v in over.items() if k != 'data.source'})}", flush=True)
    start = time.perf_counter()
    code = run_experiment(spec, splits, root, address=None, resume=False)
    if code == INTERRUPTED:
        sys.exit(f"interrupted: {name} stopped; the benchmark's results so far are in {results}")
    if code != 0:
        print(f"warning: {name} ended with exit code {code}; its rows may be missing", flush=True)
    return time.perf_counter() - start


def seconds(trial_dir: Path) -> float:
    return sum(r.get("seconds", 0.0) for r in read_history(trial_dir))


def trained_epochs(run_dir: Path) -> int:
    """Epochs a Train run finished, from its latest checkpoint (kept whatever the score): Tune can miss
    some, a stopped trial's run finishing its epoch or a report lost on the way."""
    latest = max((p for p in run_dir.glob("checkpoint_*") if p.is_dir()), key=lambda p: p.name, default=None)
    return len(torch.load(latest / CHECKPOINT_FILE, map_location="cpu", weights_only=True)["history"]) if latest else 0


def unrecorded_epochs(root: Path) -> int:
    """Epochs trained in ``root``'s search that its Tune records (and so its compute) lack."""
    trials = [d for d in (root / TUNE_DIR).iterdir() if d.is_dir()]
    return sum(max(0, trained_epochs(root / TRAIN_DIR / d.name) - len(read_history(d))) for d in trials)


def evaluate_run(run_dir: Path, config: dict[str, Any], test: Split) -> tuple[dict[str, dict[str, float]], int]:
    """Test scores of a run's final weights, clean and corrupted, and its parameter count."""
    model, pre = load_final_model(run_dir, config)
    scores = evaluate_model(ExportedClassifier(pre, model).eval(), test, ("clean", *CORRUPTED), seed=0)
    return scores["corruptions"], count_parameters(model)


def preset_rows(spec: SearchSpec, root: Path, test: Split) -> list[Row]:
    rows: dict[str, Row] = {}
    for trial_dir in sorted((root / TUNE_DIR).iterdir()):
        if not read_history(trial_dir):
            continue
        sampled = json.loads((trial_dir / "params.json").read_text())
        row = rows.setdefault(sampled["preset"], Row(f"hand-tuned: {sampled['preset']}"))
        scores, row.params = evaluate_run(root / TRAIN_DIR / trial_dir.name, spec.trial_config(sampled), test)
        row.scores.append(scores)
        row.train_seconds.append(seconds(trial_dir))
    return [rows[name] for name in spec.presets if name in rows]


def retrained_row(label: str, spec: SearchSpec, root: Path, test: Split) -> Row | None:
    """The search's best, as the product retrained it (None: the search left nothing to retrain)."""
    out = root / RETRAIN_DIR
    if not (out / TUNE_DIR).is_dir():
        return None
    runs = retrain_runs(spec, root, trial_table(root, spec))  # the product's own names and configs
    row = Row(label, search_seconds=sum(seconds(d) for d in (root / TUNE_DIR).iterdir() if d.is_dir()))
    for trial_dir in sorted((out / TUNE_DIR).iterdir()):
        if not read_history(trial_dir):
            continue
        name = json.loads((trial_dir / "params.json").read_text())["run"]
        scores, row.params = evaluate_run(out / TRAIN_DIR / trial_dir.name, runs[name]["config"], test)
        row.scores.append(scores)
        row.train_seconds.append(seconds(trial_dir))
    return row if row.scores else None


def reports(root: Path) -> pd.DataFrame:
    """Every epoch every trial reported, in the order they finished."""
    rows = [
        {**r, "trial": d.name, "finished": r["t_driver"] + r["time_total_s"]}
        for d in (root / TUNE_DIR).iterdir() if d.is_dir() for r in read_history(d)
    ]
    return pd.DataFrame(rows).sort_values("finished", ignore_index=True) if rows else pd.DataFrame()


def startup_seconds(history: pd.DataFrame) -> float:
    """Mean seconds from a trial's start (its driver) to its training loop: what a trial costs beyond compute."""
    if history.empty:
        return float("nan")
    first = history.groupby("trial").first()
    return float((first["t_ready"] - first["t_driver"]).mean())


def best_so_far(history: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative work, best ``metric`` so far) after each reported epoch."""
    if history.empty:
        return np.zeros(0), np.zeros(0)
    return history[WORK].cumsum().to_numpy(), history[metric].cummax().to_numpy()


def compute_to_reach(curve: tuple[np.ndarray, np.ndarray], target: float) -> float | None:
    x, y = curve
    hit = np.flatnonzero(y >= target)
    return float(x[hit[0]]) if hit.size else None


def plot(histories: dict[str, pd.DataFrame], budget: float, target_metric: str, path: Path) -> None:
    fig = Figure(figsize=(11, 4.2))
    for ax, metric in zip(fig.subplots(1, 2), ("val_f1", "val_robust_f1")):
        for name, history in histories.items():
            x, y = best_so_far(history, metric)
            ax.step(x, y, where="post", label=CURVE_LABELS[name], linestyle="--" if name == "plain" else "-")
        ax.axvline(budget, color="grey", linestyle=":", label="step 1's work")
        if metric == target_metric and not histories["random"].empty:  # target 2: random's final best, in half its work
            x, y = best_so_far(histories["random"], metric)
            ax.axhline(y[-1], color="tab:orange", linestyle=":", linewidth=1)
            ax.axvline(x[-1] / 2, color="tab:orange", linestyle="-.", linewidth=1, label="half of random's work")
        ax.set(xlabel="work: cumulative sample-epochs of the trials", ylabel=f"best {metric} so far",
               title=f"best-so-far {metric}")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    save_png(fig, path)


def cpu_model() -> str:
    info = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if line.startswith("model name")] if info.is_file() else []
    return names[0] if names else platform.processor() or "unknown"


def machine() -> dict[str, str]:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {"CPU": f"{cpu_model()}, {os.cpu_count()} cores", "RAM": f"{ram:.0f} GiB", "GPU": gpu, "OS": platform.platform(),
            "versions": f"python {platform.python_version()}, torch {torch.__version__}, ray {ray.__version__}, optuna {optuna.__version__}"}


def shown(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (the report is committed)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else path


def pm(mean_std: tuple[float, float]) -> str:
    return f"{mean_std[0]:.4f} ± {mean_std[1]:.4f}"


def table(rows: list[Row]) -> str:
    head = ["model", "seeds", "test macro F1", "test accuracy", "params", "CPU s: one model", "CPU s: search",
            *(f"F1 {c}" for c in CORRUPTED)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.label, str(len(r.scores)), pm(r.mean_std("clean", "f1")), pm(r.mean_std("clean", "accuracy")), f"{r.params:,}",
                 f"{np.mean(r.train_seconds):.0f}", "" if r.search_seconds is None else f"{r.search_seconds:.0f}",
                 *(f"{r.mean_std(c, 'f1')[0]:.4f}" for c in CORRUPTED)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def target_search_beats_presets(presets: list[Row], search: Row | None) -> tuple[bool, str]:
    if search is None or not presets:
        return False, "not measured: the TPE + ASHA search left no retrained model"
    best = max(presets, key=lambda r: r.mean_std("clean", "f1")[0])
    (f1, std), (base, base_std) = search.mean_std("clean", "f1"), best.mean_std("clean", "f1")
    margin = max(std, base_std)  # the larger of the two seeds' standard deviations
    met = f1 - base > margin
    return met, (f"TPE + ASHA retrained best {f1:.4f} vs best hand-tuned ({best.label.split(': ')[-1]}) {base:.4f}: "
                 f"{f1 - base:+.4f}, {'more' if met else 'not more'} than the seeds' std ({margin:.4f})")


def target_half_compute(histories: dict[str, pd.DataFrame], metric: str) -> tuple[bool, str]:
    """Target 2 on the metric both searches rank by."""
    rx, ry = best_so_far(histories["random"], metric)
    tpe = best_so_far(histories["tpe_asha"], metric)
    if not ry.size or not tpe[0].size:
        return False, "not measured: a search reported nothing"
    reached = compute_to_reach(tpe, ry[-1])
    if reached is None:
        return False, (f"TPE + ASHA never reached random search's final best {metric} {ry[-1]:.4f} "
                       f"(its best: {tpe[1][-1]:.4f} in {short(tpe[0][-1])} sample-epochs; random: {short(rx[-1])})")
    met = reached <= rx[-1] / 2
    return met, (f"TPE + ASHA reached random search's final best {metric} {ry[-1]:.4f} after {short(reached)} sample-epochs "
                 f"of work, {reached / rx[-1]:.0%} of random search's {short(rx[-1])} (target: at most 50%)")


def best_trials(specs: dict[str, tuple[SearchSpec, Path]]) -> str:
    lines, seen = [], {}
    for name, (spec, root) in specs.items():
        top = trial_table(root, spec)
        if top.empty:
            continue
        best = top.iloc[0]
        config = flatten(spec.trial_config(json.loads((root / TUNE_DIR / best["trial_id"] / "params.json").read_text())))
        summary = ", ".join(f"{label} {config[key]:.3g}" if isinstance(config[key], float) else f"{label} {config[key]}"
                            for label, key in SUMMARY.items() if key in config)
        same = next((other for other, c in seen.items() if c == config), None)
        seen[name] = config
        lines.append(f"- **{name}**: {int((top['epochs'] > 0).sum())} trials trained; best {best['trial_id']} ({spec.search.metric} {best[spec.search.metric]:.4f}, "
                     f"{best['epochs']} epochs): {summary}" + (f"; the same configuration as {same}'s best" if same else ""))
    return "\n".join(lines) + "\n"


def robustness_gain(searched: dict[str, Row]) -> str:
    """What ranking trials by val_robust_f1 buys: the TPE + ASHA search's best against the same search's on val_f1."""
    if "plain" not in searched or "tpe_asha" not in searched:
        return "Not measured: a search left no retrained model."
    robust, plain = searched["tpe_asha"], searched["plain"]
    diffs = ", ".join(f"{c} {robust.mean_std(c, 'f1')[0] - plain.mean_std(c, 'f1')[0]:+.4f}" for c in ("clean", *CORRUPTED))
    return f"What ranking by val_robust_f1 buys: the TPE + ASHA search's best against its best on clean val_f1, test macro F1: {diffs}."


def verdict(met: bool, text: str) -> str:
    return f"- **{'MET' if met else 'NOT MET'}**: {text}"


@dataclass
class Outcome:
    """What the report shows, read back from the experiment folders."""

    facts: dict[str, Any]  # FACTS_FILE: the settings and what the run measured that the folders do not hold
    presets: list[Row]
    preset_root: Path
    searched: dict[str, Row] = field(default_factory=dict)  # search name -> its retrained best
    specs: dict[str, tuple[SearchSpec, Path]] = field(default_factory=dict)

    @property
    def rows(self) -> list[Row]:
        return [*self.presets, *self.searched.values()]

    @property
    def budget(self) -> float:
        return self.facts["budget_work"]


def load_data(data: str, max_train: int, max_test: int) -> tuple[str, Split, Split]:
    """(source, training pool, test split), both cut to size the same way on every call."""
    dataset = load_dataset(data)
    if dataset.test is None or dataset.test.labels is None:
        sys.exit(f"error: {data} has no labelled test set")
    return dataset.source, stratified_subset(dataset.train, max_train), stratified_subset(dataset.test, max_test)


def experiment_compute(root: Path) -> float:
    return sum(seconds(d) for d in (root / TUNE_DIR).iterdir() if d.is_dir())


def run_benchmark(args: argparse.Namespace, results: Path) -> dict[str, Any]:
    """Steps 1 to 4, on one Ray cluster; returns (and saves) the run's facts."""
    started, load_start = time.perf_counter(), os.getloadavg()
    source, pool, test = load_data(args.data, args.max_train, args.max_test)
    print(f"data: {source}: {len(pool)} training samples (train + validation), {len(test)} test samples", flush=True)
    walls: dict[str, float] = {}
    with ray_cluster(None):
        slots = int(ray.cluster_resources().get("CPU", 1))  # trials at once: one CPU each (the space files)
        common = common_overrides(args, slots)
        # Step 1, trained like the product's retraining of a search's best (search.retrain): on train +
        # validation, final weights; the test split is only scored after each epoch, it selects nothing.
        step1 = {"train": concat(*split_data("seeds.yaml", pool)), "val": test, "test": None, "source": source}
        walls["presets"] = run("seeds.yaml", "presets", {**common, "search.num_samples": args.seeds}, step1, results)
        budget = experiment_compute(results / "presets")
        if not budget:
            sys.exit(f"error: step 1 trained nothing; see {results / 'presets'}")
        spend = {"budget_s": budget, "wall_budget_s": args.budget_minutes * 60 if args.budget_minutes else None, **step1_facts(results / "presets")}
        limit = search_limit(spend)
        print(f"\nstep 1: {budget:.0f} s of epochs; each search gets {json.dumps(limit)}, {slots} trials at once", flush=True)
        train, val = split_data(SEARCH_SPACE, pool)
        scheduler = load_spec(SPACES / SEARCH_SPACE).scheduler
        grace = max(1, scheduler.grace_period * args.epochs // scheduler.max_t)  # the file's ratio, for fewer epochs
        splits = {"train": train, "val": val, "test": test, "source": source}
        for name, (over, _) in SEARCHES.items():
            search_over = {**common, "search.num_samples": args.max_trials, **limit,
                           "scheduler.grace_period": grace, "searcher.n_startup_trials": args.startup_trials,
                           "retrain.seeds": args.seeds, "retrain.ablation": False, **over}
            walls[name] = run(SEARCH_SPACE, name, search_over, splits, results)
    facts = {
        "settings": {k: getattr(args, k) for k in SETTINGS}, "source": source, "pool": len(pool), "test": len(test),
        "slots": slots, **spend, "walls_s": walls,
        "wall_s": time.perf_counter() - started, "load": [load_start, os.getloadavg()], "machine": machine(),
    }
    atomic_write_text(results / FACTS_FILE, json.dumps(facts, indent=1))
    return facts


def collect(facts: dict[str, Any], results: Path) -> Outcome:
    """Every model of the table evaluated on the test set, from the experiment folders."""
    settings = facts["settings"]
    _, _, test = load_data(settings["data"], settings["max_train"], settings["max_test"])
    root = results / "presets"
    outcome = Outcome(facts, preset_rows(load_spec(root / SPEC_FILE), root, test), root)
    for name, (_, label) in SEARCHES.items():
        root = results / name
        spec = load_spec(root / SPEC_FILE)
        outcome.specs[name] = (spec, root)
        row = retrained_row(label, spec, root, test)
        if row is None:
            print(f"warning: {name}: no retrained model", flush=True)
        else:
            outcome.searched[name] = row
    return outcome


def write_report(outcome: Outcome, out: Path) -> None:
    histories = {name: reports(root) for name, (_, root) in outcome.specs.items()}
    png = out.with_suffix(".png")
    metric = outcome.specs["tpe_asha"][0].search.metric
    plot(histories, outcome.budget, metric, png)
    verdicts = [target_search_beats_presets(outcome.presets, outcome.searched.get("tpe_asha")), target_half_compute(histories, metric)]
    atomic_write_text(out, markdown(outcome, histories, verdicts, png.name))
    print("\n" + table(outcome.rows))
    print(robustness_gain(outcome.searched))
    for met, line in verdicts:
        print(verdict(met, line))
    print(f"\nwall time {outcome.facts['wall_s'] / 60:.1f} min; wrote {out} and {png}")


def main() -> None:
    args = parse_args()
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


def markdown(outcome: Outcome, histories: dict[str, pd.DataFrame], verdicts: list[tuple[bool, str]], png: str) -> str:
    facts = outcome.facts
    settings, slots, walls = facts["settings"], facts["slots"], facts["walls_s"]
    host = "\n".join(f"- {k}: {v}" for k, v in facts["machine"].items())
    load = ", ".join(f"{when} {a:.1f} / {b:.1f} / {c:.1f}" for when, (a, b, c) in zip(("at the start", "at the end"), facts["load"]))
    asha = outcome.specs["tpe_asha"][0].scheduler
    search_lines = "\n".join(
        f"- {name}: {spent(histories[name], facts)} in {len(set(histories[name].get('trial', [])))} trials trained, "
        f"each {startup_seconds(histories[name]):.0f} s from its start to its first\n  epoch on average; {walls[name] / 60:.1f} min wall "
        f"(search + retraining); {unrecorded_epochs(root)} epoch(s) trained that Tune never recorded (a stopped\n"
        "  trial's run finishing its epoch, or a lost report) are not counted" for name, (_, root) in outcome.specs.items())
    return f"""# Real-data benchmark: hand-tuned models vs TPE + ASHA vs random search

Written by `bench/real_benchmark.py` (issue #5) on `{Path(settings["data"]).name}`: {facts["pool"]} training samples (train +
validation; each search splits 15% off for validation), {facts["test"]} labelled test samples that no search
sees. Total wall time {facts["wall_s"] / 60:.1f} min.

## Machine

{host}
- load average (1 / 5 / 15 min): {load}

Ray ran {slots} trials at once, one CPU thread each. Times are wall seconds of single-threaded training and
evaluation epochs, so other work on the machine inflates them (see the load average).

## Settings

- every run: {settings["epochs"]} epochs (the presets' published budget is 15: scaled down, with the training data, to
  fit within about 30 minutes on 2 CPU cores), {settings["seeds"]} seed(s) per trained model; the presets' other
  settings as in `spaces/seeds.yaml`
- step 1: each preset trained as the product retrains a search's best: on train + validation, final weights,
  then scored on the test set. Its per-epoch scoring of the test set (clean, audio missing, image missing) is
  part of its work, as in the searches' retraining; it selects nothing. Wall {walls["presets"] / 60:.1f} min;
  {unrecorded_epochs(outcome.preset_root)} epoch(s) trained that Tune never recorded (a lost report) are not counted
{budget_text(facts)}
- searches: up to {settings["max_trials"]} trials, {slots} at once, TPE with {settings["startup_trials"]} random start-up trials
  (the space files: 16, too many for this budget), seed 0 for both samplers, so TPE's start-up trials are random
  search's first ones; ASHA: grace period {asha.grace_period} epoch(s), reduction factor {asha.reduction_factor} (the space
  files: 3 of 30 epochs, scaled); random search: every trial {settings["epochs"]} epochs. Each search's best is
  retrained with {settings["seeds"]} seed(s) on train + validation
{search_lines}
- robustness: every trained model on the test set with the audio replaced by standard normal noise
  (`audio_noise`), the image blanked (`image_blank`), and Gaussian noise on both (`gaussian`), seed 0
- experiment folders (leaderboards; `python -m search.report` works on each): `{shown(settings["results"])}`

## Results

Test macro F1 and accuracy are mean ± sample standard deviation over seeds; the corruption columns are the mean test macro F1.
"CPU s: one model" is the compute of one seed's training (no GPU); "CPU s: search" the search's compute
before retraining.

{table(outcome.rows)}
{robustness_gain(outcome.searched)}

Search bests (by each search's own metric):

{best_trials(outcome.specs)}
![best-so-far validation F1 versus work]({png})

Right: the best val_robust_f1 so far (the mean validation macro F1 clean, audio missing and image missing, which
`spaces/fusion.yaml` ranks by) against the work done (every trial's epochs in the order they finished);
dotted orange: random search's final best, dash-dotted: half its work (target 2). Left: the same for clean
validation macro F1, which the dashed search ranks by.

## Targets

{chr(10).join(verdict(met, text) for met, text in verdicts)}
"""


if __name__ == "__main__":
    main()
