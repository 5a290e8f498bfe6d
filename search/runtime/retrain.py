"""After the search: retrain the best configs with several seeds and evaluate them on held-out data.

The best ``retrain.top_k`` feasible trials (with several objectives: members spread along the Pareto front,
``search.results.front``) are retrained for the full epoch budget on train + validation with
``retrain.seeds`` seeds (and the best one also as ``image_only`` and ``audio_only``, to show what fusion
gains), as Ray Train runs scheduled by Tune, the way the search's trials run (in-process or distributed), so
they use the cluster's GPUs. Each run's final model is evaluated on the labelled test set, or, without one,
on the validation split (trained on train only); the summary is retrain.json, which the export stage
(``search.results.export_stage``) reads.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import ray
import torch
from sklearn.metrics import confusion_matrix, f1_score

from common.atomic import atomic_write_text
from common.stats import STD, mean_std
from search.results.folder import ExperimentFolder
from search.runtime.crossval import run_cross_validation
from search.runtime.tuner import TrainRuns
from search.space.resolve import TrialResolver
from search.space.spec import DataSection, RetrainSection
from serving.ensemble import export_ensemble
from training.trainer import evaluate, to_device

ABLATIONS = ("image_only", "audio_only")


def retrain_runs(retrain: RetrainSection, trials: list[str], resolve: TrialResolver, root: Path) -> dict[str, dict[str, Any]]:
    """{run name: {"source", "variant", "seed", "config"}} for every retraining run of ``trials``, best first."""
    runs = {}
    for i, trial_id in enumerate(trials):
        base = resolve(ExperimentFolder(root).trial_params(trial_id))
        variants = {"fused": base}
        if retrain.ablation and i == 0:
            for name in ABLATIONS:
                variant = copy.deepcopy(base)
                variant["model"]["fusion"] = {"name": name}
                variants[name] = variant
        for variant, config in variants.items():
            for seed in range(retrain.seeds):
                config = copy.deepcopy(config)
                config.setdefault("train", {})["seed"] = seed
                runs[f"{trial_id}-{variant}-seed{seed}"] = {
                    "source": trial_id,
                    "variant": variant,
                    "seed": seed,
                    "config": config,
                }
    return runs


def run_retraining(
    retrain: RetrainSection,
    root: Path,
    splits: dict[str, Any],
    trials: list[str],
    *,
    resolve: TrialResolver,
    splitting: DataSection,
    train: TrainRuns,
) -> dict[str, Any] | None:
    """Retrain ``trials`` (best first: ``search.results.front.retrain_trials``) as ``retrain`` says, evaluate
    and export them; returns the summary written to ``retrain.json`` (None: nothing to do).

    Args:
        resolve: a trial's sampled values -> its config, and the epochs to train.
        splitting: the space's data section, which cross-validation cuts its folds by.
        train: trains configs as the search trained its trials (``search.runtime.tuner.trial_runs``).
    """
    runs = retrain_runs(retrain, trials, resolve, root)
    if not runs:
        return None
    test = splits.get("test")
    on_test = test is not None and test.labels is not None
    train_split = splits["train"].concat(splits["val"]) if on_test else splits["train"]
    eval_split = test if on_test else splits["val"]
    evaluated_on = "test" if on_test else "validation (no labelled test set)"
    print(f"\nretraining {len(runs)} run(s) for {resolve.epochs} epochs; evaluated on the {evaluated_on} split")
    out = ExperimentFolder(root).retrain
    configs = {name: run["config"] for name, run in runs.items()}
    # measure=False: a retrained config passed the limits once; a noisy latency must not drop it now
    train(out, ray.put({"train": train_split, "val": eval_split}), configs, measure=False)

    rows, models = [], {}
    retrained = ExperimentFolder(out)
    for trial_id in retrained.trial_ids():
        if not retrained.history(trial_id):
            continue
        name = retrained.trial_params(trial_id)["run"]
        model, pre = retrained.final_model(trial_id)
        result = evaluate(model, pre, to_device(eval_split, pre, torch.device("cpu")))
        pred = result["predictions"].numpy()
        rows.append(
            {
                **{k: runs[name][k] for k in ("source", "variant", "seed")},
                "run": name,
                "accuracy": result["accuracy"],
                "f1": result["f1"],
                "per_class_f1": f1_score(eval_split.labels, pred, average=None, labels=range(10)).tolist(),
                "confusion_matrix": confusion_matrix(eval_split.labels, pred, labels=range(10)).tolist(),
            }
        )
        models[name] = (model, pre)
    order = {name: i for i, name in enumerate(runs)}
    rows.sort(key=lambda r: order[r["run"]])  # the runs' order, best config first, not the trial folders' (random ids)
    summary = summarize(rows, evaluated_on)
    cv_configs = {run["source"]: run["config"] for run in runs.values() if run["variant"] == "fused" and run["seed"] == 0}
    crossval = run_cross_validation(retrain.cv_folds, splitting, root, splits["train"].concat(splits["val"]), cv_configs, train)
    if crossval is not None:
        summary["cross_validation"] = crossval
    if retrain.ensemble:
        sources = list(dict.fromkeys(run["source"] for run in runs.values()))  # best config first
        ensemble = export_ensemble(
            ExperimentFolder(root).ensemble, retrain.ensemble, rows, models, sources, eval_split, evaluated_on
        )
        if ensemble is not None:
            summary["ensemble"] = ensemble
    atomic_write_text(ExperimentFolder(root).retrain_summary, json.dumps(summary, indent=1))
    return summary


def summarize(rows: list[dict[str, Any]], evaluated_on: str) -> dict[str, Any]:
    table = pd.DataFrame(rows)
    groups = []
    for (source, variant), group in table.groupby(["source", "variant"], sort=False):
        groups.append(
            {
                "source": source,
                "variant": variant,
                "seeds": len(group),
                **mean_std({"accuracy": group["accuracy"], "f1": group["f1"]}),
                "per_class_f1_mean": np.mean(group["per_class_f1"].tolist(), axis=0).tolist(),
            }
        )
    return {"evaluated_on": evaluated_on, "std": STD, "configs": groups, "runs": rows}
