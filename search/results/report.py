"""An experiment's report.md (``python -m search.report`` rebuilds it).

``report.md`` says what a search found: the top of the leaderboard, learning curves, how many trials
survived each ASHA rung, fANOVA hyperparameter importance, the retrained configs, the modality ablation
and the best retrained config's confusion matrix. Its figures are PNG files under ``figures/``,
referenced by relative path. Everything is read from the experiment folder, so a finished, resumed or
killed search is served alike; a section whose input is missing says so in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common.atomic import atomic_write_text
from search.results.folder import HP, RETRAIN_FILE, ExperimentFolder
from search.results.front import front_section
from search.results.importance import Conditional, NoImportance, importances
from search.results.leaderboard import markdown, retrained_markdown, retrained_table
from search.results.plots import (
    confusion,
    figure,
    importance_bars,
    learning_curves,
    rung_survival,
)
from search.results.tables import simple_markdown
from search.space.params import Param
from search.space.resolve import SAMPLED
from search.space.spec import SchedulerSection, SearchSection, SearchSpec

TOP = 10  # trials in the leaderboard excerpt and in the learning curves
NO_RETRAIN = (
    f"No {RETRAIN_FILE}: the best configs were not retrained (the search stopped before retraining, or retrain.top_k is 0).\n"
)

History = dict[str, list[dict[str, Any]]]  # trial id -> its reported epochs, oldest first


def write_report(root: Path, spec: SearchSpec, table: pd.DataFrame) -> Path:
    """Write ``root/report.md`` and its figures; returns the report's path. The report describes the whole
    search: its name, ranking, epochs and scheduler, and the parameters it searched.

    Args:
        root: the experiment folder (results/<name>).
        table: its trials, as ``search.results.leaderboard.trial_table`` returns them (best first).
    """
    trial_ids = list(table["trial_id"]) if not table.empty else []
    folder = ExperimentFolder(root)
    histories = {t: folder.history(t) for t in trial_ids}
    retrained = read_retrained(root)
    sections = [
        s
        for s in [
            overview(spec.name, spec.search, spec.scheduler.max_t, table),
            front_section(root, spec.name, spec.search, table),
            curves_section(root, spec.search.metric, spec.scheduler, histories),
            rungs_section(root, spec.scheduler, histories),
            importance_section(root, spec.params, spec.search, table),
            retrained_section(retrained),
            ablation_section(retrained, table),
            confusion_section(root, retrained),
        ]
        if s
    ]
    path = folder.report
    atomic_write_text(path, "\n".join(sections))
    return path


def read_retrained(root: Path) -> dict[str, Any] | None:
    """What ``run_retraining`` returned and wrote to retrain.json; None if it has not run."""
    return ExperimentFolder(root).read_retrained()


def overview(name: str, search: SearchSection, max_t: int, table: pd.DataFrame) -> str:
    text = f"# {name}: search report\n\n"
    if table.empty:
        return text + "No trials: the search stopped before its first trial started.\n"
    kinds = table["status"].str.replace(r"( at epoch \d+|: .*)$", "", regex=True).value_counts()
    return text + (
        f"{len(table)} trials ({', '.join(f'{n} {kind}' for kind, n in kinds.items())}), ranked by their best "
        f"{search.metric} ({search.mode}) over up to {max_t} epochs each. "
        "Every trial: [leaderboard.md](leaderboard.md) (and .csv, .json).\n\n"
        f"## Top {min(TOP, len(table))} trials\n\n" + markdown(table.head(TOP), search.metric)
    )


def curves_section(root: Path, metric: str, scheduler: SchedulerSection, histories: History) -> str:
    text = "## Learning curves\n\n"
    # histories are in leaderboard order: the rank is the position
    top = [(rank, t) for rank, (t, history) in enumerate(histories.items(), 1) if history][:TOP]
    if not top:
        return text + "No trial has reported an epoch yet.\n"
    curves = {f"#{rank} {t}": [(r["epoch"], r[metric]) for r in histories[t]] for rank, t in top}
    rungs = asha_rungs(scheduler)
    return (
        text
        + f"{metric} per epoch of the top {len(top)} trials{' (dotted: the ASHA rungs)' if rungs else ''}.\n\n"
        + figure(learning_curves(curves, metric, rungs), root, "learning_curves", f"{metric} per epoch")
    )


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
        how = "No early stopping" if scheduler.name == "none" else "No ASHA rungs"
        return (
            text
            + f"{how} (scheduler: {scheduler.name}): {done} of {len(last_epochs)} started trials ran all {scheduler.max_t} epochs.\n"
        )
    reached = {r: sum(e >= r for e in last_epochs) for r in asha_rungs(scheduler)}
    rows = pd.DataFrame(
        {
            "epoch": [f"{r} (max_t)" if r == scheduler.max_t else str(r) for r in reached],
            "trials reaching it": list(reached.values()),
            "of those started": [f"{n / len(last_epochs):.0%}" for n in reached.values()],
        }
    )
    return text + (
        f"ASHA (grace period {scheduler.grace_period}, reduction factor {scheduler.reduction_factor}) compares the "
        f"trials at each rung and stops the worse ones; trials started: {len(last_epochs)}.\n\n"
        + simple_markdown(rows)
        + "\n"
        + figure(rung_survival(reached, len(last_epochs)), root, "rungs", "trials per ASHA rung")
    )


def trial_results(root: Path, metric: str, table: pd.DataFrame) -> list[tuple[dict[str, Any], float]]:
    """(sampled values, best ``metric``) of each trial with a result.

    As the searcher told Optuna, a trial that ASHA stopped counts with the score it reached; a failed
    trial is left out, its score says nothing about its parameters.
    """
    if table.empty:
        return []
    scored = table[(table["status"] != "failed") & table[metric].notna()]
    return [
        (ExperimentFolder(root).trial_params(t).get(SAMPLED, {}), float(value))
        for t, value in zip(scored["trial_id"], scored[metric])
    ]


def importance_section(root: Path, params: tuple[Param, ...], search: SearchSection, table: pd.DataFrame) -> str:
    text = "## Hyperparameter importance (fANOVA)\n\n"
    try:
        result = importances(params, search.mode, trial_results(root, search.metric, table))
    except NoImportance as e:
        return text + f"Not assessed: {e}.\n"
    rows = pd.DataFrame({"parameter": list(result.scores), "importance": list(result.scores.values())})
    text += (
        f"Optuna's fANOVA over the {result.trials} trials with a result: the share of the variance of their best "
        f"{search.metric} that each searched parameter explains.\n\n"
        + figure(importance_bars(result.scores), root, "importance", "fANOVA importance")
        + "\n"
        + simple_markdown(rows)
    )
    if result.conditional:
        text += "\n" + conditional_importance_text(result.conditional)
    return text


def conditional_importance_text(conditional: Mapping[str, Conditional]) -> str:
    """The parameters that not every trial has, each assessed among the trials where it exists."""
    rows = pd.DataFrame(
        {
            "parameter": list(conditional),
            "trials where it exists": [c.trials for c in conditional.values()],
            "importance among them": [
                f"{c.share:.4f}" if c.share is not None else f"not assessed: {c.why_not}" for c in conditional.values()
            ],
        }
    ).sort_values(["trials where it exists", "parameter"], ascending=[False, True])
    return (
        "Conditional parameters (not in every trial), each assessed by fANOVA among the trials where it exists, with "
        "the parameters those trials share: its share of the variance explained there.\n\n" + simple_markdown(rows)
    )


def retrained_section(retrained: dict[str, Any] | None) -> str:
    if retrained is None:
        return "## Retrained\n\n" + NO_RETRAIN
    return (
        f"## Retrained, evaluated on the {retrained['evaluated_on']} split\n\n"
        + retrained_markdown(retrained_table(retrained))
        + crossval_text(retrained.get("cross_validation"))
        + ensemble_text(retrained.get("ensemble"))
    )


def ensemble_text(ensemble: dict[str, Any] | None) -> str:
    if ensemble is None:
        return ""
    e, single = ensemble["ensemble"], ensemble["single_best"]
    rows = pd.DataFrame(
        [
            {
                "model": f"ensemble of {ensemble['members']} (ensemble/model.ts)",
                "macro F1": f"{e['f1']:.4f}",
                "accuracy": f"{e['accuracy']:.4f}",
            },
            {
                "model": f"single best ({single['run']})",
                "macro F1": f"{single['f1']:.4f}",
                "accuracy": f"{single['accuracy']:.4f}",
            },
        ]
    )
    return (
        f"\n### Ensemble, evaluated on the {ensemble['evaluated_on']} split\n\nThe mean of the top retrained models' "
        "probabilities, against the best config's first seed alone.\n\n" + simple_markdown(rows)
    )


def crossval_text(crossval: dict[str, Any] | None) -> str:
    if crossval is None:
        return ""
    text = f"\n### {crossval['folds']}-fold cross-validation on train + validation\n\n"
    if "not_run" in crossval:
        return text + f"Not run: {crossval['not_run']}.\n"
    rows = pd.DataFrame(
        [
            {
                "config": g["source"],
                "folds": g["folds"],
                "macro F1": f"{g['f1_mean']:.4f} ± {g['f1_std']:.4f}",
                "accuracy": f"{g['accuracy_mean']:.4f} ± {g['accuracy_std']:.4f}",
            }
            for g in crossval["configs"]
        ]
    )
    return text + (
        "Each config trained on all folds but one and scored on that one (final weights; folds stratified, "
        "samples sharing a clip or an image in one fold): mean ± std over the folds.\n\n" + simple_markdown(rows)
    )


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
    rows = pd.DataFrame(
        [
            {
                "model": f"fused ({fusions[source]})" if g["variant"] == "fused" and source in fusions else g["variant"],
                "macro F1": f"{g['f1_mean']:.4f} ± {g['f1_std']:.4f}",
                "accuracy": f"{g['accuracy_mean']:.4f} ± {g['accuracy_std']:.4f}",
                "seeds": g["seeds"],
            }
            for g in retrained["configs"]
            if g["source"] == source
        ]
    )
    return text + (
        f"Trial {source} retrained with both modalities and with one only, evaluated on the "
        f"{retrained['evaluated_on']} split (mean ± sample std over seeds).\n\n" + simple_markdown(rows)
    )


def confusion_section(root: Path, retrained: dict[str, Any] | None) -> str:
    text = "## Confusion matrix of the best retrained config\n\n"
    if retrained is None:
        return text + NO_RETRAIN
    best = max((g for g in retrained["configs"] if g["variant"] == "fused"), key=lambda g: g["f1_mean"])
    runs = [r for r in retrained["runs"] if r["source"] == best["source"] and r["variant"] == "fused"]
    matrix = np.sum([r["confusion_matrix"] for r in runs], axis=0)
    split = retrained["evaluated_on"]
    return text + (
        f"Trial {best['source']} (fused, macro F1 {best['f1_mean']:.4f}), on the {split} split, summed over its "
        f"{len(runs)} seed(s).\n\n"
        + figure(confusion(matrix, f"trial {best['source']}, {len(runs)} seed(s)"), root, "confusion", "confusion matrix")
    )
