"""The real-data benchmark's report: its table, curves, verdicts on the two targets and the Markdown file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bench.benchmark_front import front_section
from bench.benchmark_rows import CORRUPTED, Outcome, Row, table
from bench.spending import WORK, budget_text, spent
from common.atomic import atomic_write_text
from search.api import SearchSpec
from search.results.folder import HP, ExperimentFolder
from search.results.plots import save_png
from search.results.tables import short

ROOT = Path(__file__).resolve().parents[1]
CURVE_LABELS = {
    "tpe_asha": "TPE + ASHA",
    "random": "random, no early stopping",
    "plain": "TPE + ASHA on clean val_f1",
    "pareto": "TPE + MOASHA, val_robust_f1 and latency",
}


def unrecorded_epochs(root: Path) -> int:
    """Epochs trained in ``root``'s search that its Tune records (and so its compute) lack: Tune can miss some
    (``ExperimentFolder.trained_history``)."""
    folder = ExperimentFolder(root)
    return sum(max(0, len(folder.trained_history(t)) - len(folder.history(t))) for t in folder.trial_ids())


SUMMARY = {
    "layout": "preprocess.audio_layout",
    "image": "model.image.name",
    "audio": "model.audio.name",
    "fusion": "model.fusion.name",
    "optimizer": "train.optimizer",
    "lr": "train.lr",
    "batch": "train.batch_size",
    "modality dropout": "augment.modality_dropout",
}  # what tells a search's best apart, in its summary line


def reports(root: Path) -> pd.DataFrame:
    """Every epoch every trial reported, in the order they finished."""
    folder = ExperimentFolder(root)
    rows = [
        {**r, "trial": t, "finished": r["t_driver"] + r["time_total_s"]} for t in folder.trial_ids() for r in folder.history(t)
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
        ax.set(
            xlabel="work: cumulative sample-epochs of the trials", ylabel=f"best {metric} so far", title=f"best-so-far {metric}"
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    save_png(fig, path)


def shown(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (the report is committed)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else path


def target_search_beats_presets(presets: list[Row], searched: list[Row] | None) -> tuple[bool, str]:
    if not searched or not presets:
        return False, "not measured: the TPE + ASHA search left no retrained model"
    best = max(presets, key=lambda r: r.mean_std("clean", "f1")[0])
    (f1, std), (base, base_std) = searched[0].mean_std("clean", "f1"), best.mean_std("clean", "f1")
    margin = max(std, base_std)  # the larger of the two seeds' standard deviations
    met = f1 - base > margin
    return met, (
        f"TPE + ASHA retrained best {f1:.4f} vs best hand-tuned ({best.label.split(': ')[-1]}) {base:.4f}: "
        f"{f1 - base:+.4f}, {'more' if met else 'not more'} than the seeds' std ({margin:.4f})"
    )


def target_half_compute(histories: dict[str, pd.DataFrame], metric: str) -> tuple[bool, str]:
    """Target 2 on the metric both searches rank by."""
    rx, ry = best_so_far(histories["random"], metric)
    tpe = best_so_far(histories["tpe_asha"], metric)
    if not ry.size or not tpe[0].size:
        return False, "not measured: a search reported nothing"
    reached = compute_to_reach(tpe, ry[-1])
    if reached is None:
        return False, (
            f"TPE + ASHA never reached random search's final best {metric} {ry[-1]:.4f} "
            f"(its best: {tpe[1][-1]:.4f} in {short(tpe[0][-1])} sample-epochs; random: {short(rx[-1])})"
        )
    met = reached <= rx[-1] / 2
    return met, (
        f"TPE + ASHA reached random search's final best {metric} {ry[-1]:.4f} after {short(reached)} sample-epochs "
        f"of work, {reached / rx[-1]:.0%} of random search's {short(rx[-1])} (target: at most 50%)"
    )


def best_trials(specs: dict[str, tuple[SearchSpec, Path]]) -> str:
    lines, seen = [], {}
    for name, (spec, root) in specs.items():
        top = ExperimentFolder(root).read_leaderboard()
        if top.empty:
            continue
        best = top.iloc[0]
        config = {c.removeprefix(HP): v for c, v in best.items() if c.startswith(HP) and pd.notna(v)}
        summary = ", ".join(
            f"{label} {config[key]:.3g}" if isinstance(config[key], float) else f"{label} {config[key]}"
            for label, key in SUMMARY.items()
            if key in config
        )
        same = next((other for other, c in seen.items() if c == config), None)
        seen[name] = config
        lines.append(
            f"- **{name}**: {int((top['epochs'] > 0).sum())} trials trained; best {best['trial_id']} ({spec.search.metric} {best[spec.search.metric]:.4f}, "
            f"{int(best['epochs'])} epochs): {summary}" + (f"; the same configuration as {same}'s best" if same else "")
        )
    return "\n".join(lines) + "\n"


def robustness_gain(searched: dict[str, list[Row]]) -> str:
    """What ranking trials by val_robust_f1 buys: the TPE + ASHA search's best against the same search's on val_f1."""
    if "plain" not in searched or "tpe_asha" not in searched:
        return "Not measured: a search left no retrained model."
    robust, plain = searched["tpe_asha"][0], searched["plain"][0]
    diffs = ", ".join(f"{c} {robust.mean_std(c, 'f1')[0] - plain.mean_std(c, 'f1')[0]:+.4f}" for c in ("clean", *CORRUPTED))
    return f"What ranking by val_robust_f1 buys: the TPE + ASHA search's best against its best on clean val_f1, test macro F1: {diffs}."


def verdict(met: bool, text: str) -> str:
    return f"- **{'MET' if met else 'NOT MET'}**: {text}"


def write_report(outcome: Outcome, out: Path) -> None:
    histories = {name: reports(root) for name, (_, root) in outcome.specs.items()}
    png = out.with_suffix(".png")
    metric = outcome.specs["tpe_asha"][0].search.metric
    plot(histories, outcome.budget, metric, png)
    verdicts = [
        target_search_beats_presets(outcome.presets, outcome.searched.get("tpe_asha")),
        target_half_compute(histories, metric),
    ]
    atomic_write_text(out, markdown(outcome, histories, verdicts, png.name) + front_section(outcome, out))
    print("\n" + table(outcome.rows))
    print(robustness_gain(outcome.searched))
    for met, line in verdicts:
        print(verdict(met, line))
    print(f"\nwall time {outcome.facts['wall_s'] / 60:.1f} min; wrote {out} and {png}")


def markdown(outcome: Outcome, histories: dict[str, pd.DataFrame], verdicts: list[tuple[bool, str]], png: str) -> str:
    facts = outcome.facts
    settings, slots, walls = facts["settings"], facts["slots"], facts["walls_s"]
    host = "\n".join(f"- {k}: {v}" for k, v in facts["machine"].items())
    load = ", ".join(
        f"{when} {a:.1f} / {b:.1f} / {c:.1f}" for when, (a, b, c) in zip(("at the start", "at the end"), facts["load"])
    )
    asha = outcome.specs["tpe_asha"][0].scheduler
    search_lines = "\n".join(
        f"- {name}: {spent(histories[name], facts)} in {len(set(histories[name].get('trial', [])))} trials trained, "
        f"each {startup_seconds(histories[name]):.1f} s from its start to its first\n  epoch on average; {walls[name] / 60:.1f} min wall "
        f"(search + retraining); {unrecorded_epochs(root)} epoch(s) trained that Tune never recorded (a stopped\n"
        "  trial's run finishing its epoch, or a lost report) are not counted"
        for name, (_, root) in outcome.specs.items()
    )
    return f"""# Real-data benchmark: hand-tuned models vs TPE + ASHA vs random search vs a Pareto search

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
"latency ms" is the median time of one forward pass of the exported model on one sample, one thread, after
warm-up (`serving.footprint`, as a search measures it). "CPU s: one model" is the CPU time of one seed's training
epochs (no GPU); "CPU s: search" the search's epochs' CPU time before retraining.

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
