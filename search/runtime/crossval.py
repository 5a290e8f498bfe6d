"""k-fold cross-validation of the best configs (``retrain.cv_folds``), after the search.

Each of the best ``retrain.top_k`` configs is trained ``k`` times on train + validation less one fold and
scored, with its final weights, on that fold. The folds are stratified and keep samples that share an
audio clip or an image inside one fold, as the validation split does (``data_utils.splits``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import ray

from common.stats import mean_std
from data_utils import DataError, duplicate_groups
from data_utils.loaders import Split
from data_utils.splits import stratified_folds
from search.results.folder import ExperimentFolder
from search.runtime.tuner import TrainRuns
from search.space.spec import DataSection


def run_cross_validation(
    k: int,
    splitting: DataSection,
    root: Path,
    data: Split,
    configs: dict[str, dict[str, Any]],
    train: TrainRuns,
) -> dict[str, Any] | None:
    """Cross-validate ``configs`` ({source trial: config}) on ``k`` folds of ``data`` (``retrain.cv_folds``),
    cut with the seed and duplicate groups of ``splitting``, the space's data section; the summary for retrain.json.

    Returns None when ``k`` is 0; a summary with ``not_run`` when the data cannot be cut into that many folds.
    """
    if not k or not configs:
        return None
    groups = duplicate_groups(data) if splitting.group_duplicates else None
    try:
        folds = stratified_folds(data.labels, k, splitting.seed, groups)
    except DataError as e:
        return {"folds": k, "not_run": str(e), "configs": [], "runs": []}
    print(f"\ncross-validating {len(configs)} config(s) on {k} folds")
    rows = []
    for i, held_out in enumerate(folds):
        train_idx = np.setdiff1d(np.arange(len(data.labels)), held_out)
        data_ref = ray.put({"train": data.subset(train_idx), "val": data.subset(held_out)})
        out = ExperimentFolder(ExperimentFolder(root).crossval / f"fold{i}")
        train(out.root, data_ref, configs)
        for trial_id in out.trial_ids():
            history = out.history(trial_id)
            if history:  # the final epoch's scores on the held-out fold: the final weights, as retraining keeps
                source = out.trial_params(trial_id)["run"]
                rows.append({"source": source, "fold": i, "f1": history[-1]["val_f1"], "accuracy": history[-1]["val_accuracy"]})
    table = pd.DataFrame(rows)
    summary = [
        {"source": source, "folds": len(group), **mean_std({"f1": group["f1"], "accuracy": group["accuracy"]})}
        for source, group in (table.groupby("source", sort=False) if not table.empty else [])
    ]
    return {"folds": k, "configs": summary, "runs": rows}
