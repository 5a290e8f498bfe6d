"""The export stage: retrained models, from their final checkpoints, to self-contained model folders
(``serving.export``).

``best/`` gets the first seed of the best retrained config (retrain.json's first); with ``retrain.export:
front``, ``pareto/<trial>/`` gets that of every retrained config. Everything is read from the experiment
folder (retrain.json and the retraining runs' checkpoints), so the stage runs the same after a search, after
``python -m search.retrain`` or on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.results.folder import ExperimentFolder


def export_retrained(root: Path, summary: dict[str, Any], data_source: str, front: bool) -> None:
    """Export the experiment in ``root``'s retrained models as ``summary`` (retrain.json) ranks them;
    ``data_source``: the data they were trained on, for their metrics.json; ``front``: every retrained config too."""
    folder = ExperimentFolder(root)
    fused = [r for r in summary["runs"] if r["variant"] == "fused"]
    if not fused:
        return
    export_source(folder.best, summary["configs"][0]["source"], fused, folder, summary, data_source)
    if front:
        for source in dict.fromkeys(r["source"] for r in fused):
            export_source(folder.pareto / source, source, fused, folder, summary, data_source)


def export_source(
    out: Path, source: str, fused: list[dict[str, Any]], folder: ExperimentFolder, summary: dict[str, Any], data_source: str
) -> None:
    """Export to ``out`` the first seed retrained of trial ``source`` (or, if none finished, the best config's)."""
    from serving.export import export_model

    first = min(fused, key=lambda r: (r["source"] != source, r["seed"]))
    runs = ExperimentFolder(folder.retrain)
    trial_id = next(t for t in runs.trial_ids() if runs.trial_params(t)["run"] == first["run"])
    config, model, pre = runs.final_trial(trial_id)  # one read of its checkpoint
    group = next(g for g in summary["configs"] if g["source"] == first["source"] and g["variant"] == "fused")
    metrics = {
        "data": data_source,
        "evaluated_on": summary["evaluated_on"],
        "source_trial": first["source"],
        "seed": first["seed"],
        "accuracy": first["accuracy"],
        "f1": first["f1"],
        "per_class_f1": first["per_class_f1"],
        "confusion_matrix": first["confusion_matrix"],
        f"f1_mean_over_{group['seeds']}_seeds": group["f1_mean"],
        "f1_std": group["f1_std"],
        "accuracy_mean": group["accuracy_mean"],
        "accuracy_std": group["accuracy_std"],
    }
    path = export_model(out, config, model, pre, metrics)
    print(f"model of trial {first['source']} exported to {path}")
