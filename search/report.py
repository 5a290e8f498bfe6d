"""``python -m search.report results/NAME``: rebuild an experiment's leaderboard and its report.md.

``report.md`` says what a search found: the top of the leaderboard, learning curves, how many trials
survived each ASHA rung, fANOVA hyperparameter importance, the retrained configs, the modality ablation
and the best retrained config's confusion matrix. Its figures are PNG files under ``figures/``,
referenced by relative path. Everything is read from the experiment folder, so a finished, resumed or
killed search is served alike; a section whose input is missing says so in one line.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from search.artifacts import atomic_write_text
from search.cli import ArgumentParser, UserError
from search.front import front_section
from search.importance import NoImportance, importances
from search.leaderboard import (
    HP,
    TUNE_DIR,
    markdown,
    read_history,
    retrained_table,
    simple_markdown,
    trial_table,
    write_leaderboard,
)
from search.plots import (
    confusion,
    importance_bars,
    learning_curves,
    rung_survival,
    save_png,
)
from search.resolve import SAMPLED
from search.run import SPEC_FILE
from search.spec import SchedulerSection, SearchSpec, load_spec
from search.typed_config import ConfigError

REPORT_FILE = "report.md"
FIGURES_DIR = "figures"  # the report's PNGs, under results/<name>/
RETRAIN_FILE = "retrain.json"  # written by search.retrain.run_retraining
TOP = 10  # trials in the leaderboard excerpt and in the learning curves
NO_RETRAIN = (f"No {RETRAIN_FILE}: the best configs were not retrained (the search stopped before retraining, "
              "or retrain.top_k is 0).\n")

History = dict[str, list[dict[str, Any]]]  # trial id -> its reported epochs, oldest first


def write_report(root: Path, spec: SearchSpec, table: pd.DataFrame) -> Path:
    """Write ``root/report.md`` and its figures; returns the report's path.

    Args:
        root: the experiment folder (results/<name>).
        table: its trials, as ``search.leaderboard.trial_table`` returns them (best first).
    """
    trial_ids = list(table["trial_id"]) if not table.empty else []
    histories = {t: read_history(root / TUNE_DIR / t) for t in trial_ids}
    retrained = read_retrained(root)
    sections = [s for s in [
        overview(spec, table),
        front_section(root, spec, table),
        curves_section(root, spec, histories),
        rungs_section(root, spec.scheduler, histories),
        importance_section(root, spec, table),
        retrained_section(retrained),
        ablation_section(retrained, table),
        confusion_section(root, retrained),
    ] if s]
    path = root / REPORT_FILE
    atomic_write_text(path, "\n".join(sections))
    return path


def read_retrained(root: Path) -> dict[str, Any] | None:
    """What ``run_retraining`` returned and wrote to retrain.json; None if it has not run."""
    path = root / RETRAIN_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def figure(fig: Figure, root: Path, name: str, alt: str) -> str:
    """Write ``fig`` under figures/ and return its markdown image (a relative link: the folder may move)."""
    relative = f"{FIGURES_DIR}/{name}.png"
    save_png(fig, root / relative)
    return f"![{alt}]({relative})\n"


def overview(spec: SearchSpec, table: pd.DataFrame) -> str:
    text = f"# {spec.name}: search report\n\n"
    if table.empty:
        return text + "No trials: the search stopped before its first trial started.\n"
    kinds = table["status"].str.replace(r"( at epoch \d+|: .*)$", "", regex=True).value_counts()
    return text + (
        f"{len(table)} trials ({', '.join(f'{n} {kind}' for kind, n in kinds.items())}), ranked by their best "
        f"{spec.search.metric} ({spec.search.mode}) over up to {spec.scheduler.max_t} epochs each. "
        "Every trial: [leaderboard.md](leaderboard.md) (and .csv, .json).\n\n"
        f"## Top {min(TOP, len(table))} trials\n\n" + markdown(table.head(TOP), spec)
    )


def curves_section(root: Path, spec: SearchSpec, histories: History) -> str:
    metric = spec.search.metric
    text = "## Learning curves\n\n"
    # histories are in leaderboard order: the rank is the position
    top = [(rank, t) for rank, (t, history) in enumerate(histories.items(), 1) if history][:TOP]
    if not top:
        return text + "No trial has reported an epoch yet.\n"
    curves = {f"#{rank} {t}": [(r["epoch"], r[metric]) for r in histories[t]] for rank, t in top}
    rungs = asha_rungs(spec.scheduler)
    return text + f"{metric} per epoch of the top {len(top)} trials{' (dotted: the ASHA rungs)' if rungs else ''}.\n\n" + figure(
        learning_curves(curves, metric, rungs), root, "learning_curves", f"{metric} per epoch")


def asha_rungs(scheduler: SchedulerSection) -> list[int]:
    """The epochs at which ASHA compares trials (grace_period * reduction_factor**k), and max_t."""
    if scheduler.name != "asha":
        return []
    rungs, epoch = [], scheduler.grace_period
    while epoch < scheduler.max_t:
        rungs.append(epoch)
        epoch *= scheduler.reduction_factor
    return [*rungs, scheduler.max_t]


def rungs_section(root: Path, scheduler: SchedulerSection, histories: History) -> str:
    text = "## Early stopping: trials reaching each ASHA rung\n\n"
    last_epochs = [h[-1]["epoch"] for h in histories.values() if h]
    if not last_epochs:
        return text + "No trial has reported an epoch yet.\n"
    if scheduler.name != "asha":
        done = sum(e >= scheduler.max_t for e in last_epochs)
        return text + f"No early stopping (scheduler: {scheduler.name}): {done} of {len(last_epochs)} started trials ran all {scheduler.max_t} epochs.\n"
    reached = {r: sum(e >= r for e in last_epochs) for r in asha_rungs(scheduler)}
    rows = pd.DataFrame({
        "epoch": [f"{r} (max_t)" if r == scheduler.max_t else str(r) for r in reached],
        "trials reaching it": list(reached.values()),
        "of those started": [f"{n / len(last_epochs):.0%}" for n in reached.values()],
    })
    return text + (
        f"ASHA (grace period {scheduler.grace_period}, reduction factor {scheduler.reduction_factor}) compares the "
        f"trials at each rung and stops the worse ones; trials started: {len(last_epochs)}.\n\n"
        + simple_markdown(rows) + "\n" + figure(rung_survival(reached, len(last_epochs)), root, "rungs", "trials per ASHA rung")
    )


def trial_results(root: Path, spec: SearchSpec, table: pd.DataFrame) -> list[tuple[dict[str, Any], float]]:
    """(sampled values, best search metric) of each trial with a result.

    As the searcher told Optuna, a trial that ASHA stopped counts with the score it reached; a failed
    trial is left out, its score says nothing about its parameters.
    """
    if table.empty:
        return []
    metric = spec.search.metric
    scored = table[(table["status"] != "failed") & table[metric].notna()]
    return [
        (json.loads((root / TUNE_DIR / t / "params.json").read_text()).get(SAMPLED, {}), float(value))
        for t, value in zip(scored["trial_id"], scored[metric])
    ]


def importance_section(root: Path, spec: SearchSpec, table: pd.DataFrame) -> str:
    text = "## Hyperparameter importance (fANOVA)\n\n"
    try:
        result = importances(spec, trial_results(root, spec, table))
    except NoImportance as e:
        return text + f"Not assessed: {e}.\n"
    rows = pd.DataFrame({"parameter": list(result.scores), "importance": list(result.scores.values())})
    text += (
        f"Optuna's fANOVA over the {result.trials} trials with a result: the share of the variance of their best "
        f"{spec.search.metric} that each searched parameter explains.\n\n"
        + figure(importance_bars(result.scores), root, "importance", "fANOVA importance") + "\n" + simple_markdown(rows)
    )
    if result.left_out:
        text += f"\nNot assessed (fANOVA takes only the parameters that every trial has): {', '.join(result.left_out)}.\n"
    return text


def retrained_section(retrained: dict[str, Any] | None) -> str:
    if retrained is None:
        return "## Retrained\n\n" + NO_RETRAIN
    return (f"## Retrained, evaluated on the {retrained['evaluated_on']} split\n\n"
            + simple_markdown(retrained_table(retrained).drop(columns=["rank", "evaluated_on"])))


def ablation_section(retrained: dict[str, Any] | None, table: pd.DataFrame) -> str:
    text = "## Modality ablation\n\n"
    if retrained is None:
        return text + NO_RETRAIN
    ablated = [g for g in retrained["configs"] if g["variant"] != "fused"]
    if not ablated:
        return text + "Not run (retrain.ablation is false).\n"
    source = ablated[0]["source"]
    column = HP + "model.fusion.name"
    fusions = dict(zip(table["trial_id"], table[column])) if column in table else {}
    rows = pd.DataFrame([{
        "model": f"fused ({fusions[source]})" if g["variant"] == "fused" and source in fusions else g["variant"],
        "macro F1": f"{g['f1_mean']:.4f} ± {g['f1_std']:.4f}",
        "accuracy": f"{g['accuracy_mean']:.4f} ± {g['accuracy_std']:.4f}",
        "seeds": g["seeds"],
    } for g in retrained["configs"] if g["source"] == source])
    return text + (f"Trial {source} retrained with both modalities and with one only, evaluated on the "
                   f"{retrained['evaluated_on']} split (mean ± std over seeds).\n\n" + simple_markdown(rows))


def confusion_section(root: Path, retrained: dict[str, Any] | None) -> str:
    text = "## Confusion matrix of the best retrained config\n\n"
    if retrained is None:
        return text + NO_RETRAIN
    best = max((g for g in retrained["configs"] if g["variant"] == "fused"), key=lambda g: g["f1_mean"])
    runs = [r for r in retrained["runs"] if r["source"] == best["source"] and r["variant"] == "fused"]
    matrix = np.sum([r["confusion_matrix"] for r in runs], axis=0)
    split = retrained["evaluated_on"]
    return text + (f"Trial {best['source']} (fused, macro F1 {best['f1_mean']:.4f}), on the {split} split, summed over its "
                   f"{len(runs)} seed(s).\n\n"
                   + figure(confusion(matrix, f"trial {best['source']}, {len(runs)} seed(s)"), root, "confusion", "confusion matrix"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m search.report", description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("experiment", help="an experiment folder, e.g. results/fusion")
    return p.parse_args(argv)


def load_experiment(root: Path) -> SearchSpec:
    if not (root / SPEC_FILE).is_file():
        raise UserError(f"{root}: not an experiment folder (no {SPEC_FILE}); give one such as results/fusion")
    return load_spec(root / SPEC_FILE)


def main(argv: Sequence[str] | None = None) -> int:
    root = Path(parse_args(argv).experiment)
    try:
        spec = load_experiment(root)
        table = trial_table(root, spec)
        write_leaderboard(root, table, spec, read_retrained(root))
        path = write_report(root, spec, table)
    except (ConfigError, UserError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a results folder that cannot be read or written
        print(f"error: {e.filename or root}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
