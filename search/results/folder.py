"""The experiment folder ``results/<name>/``: every file name in it, in one place, and the paths built from them.

    space.yaml          the space as run, with command-line overrides: what --resume continues
    tune/<trial>/       Ray Tune's experiment: params.json (sampled values), result.json (one line per epoch)
    tune/<trial>/checkpoint_*/  an in-process trial's checkpoints (checkpoint.pt), kept by Tune
    train/<trial>/      one Ray Train run per distributed trial (its checkpoints: checkpoint.pt)
    tensorboard/<trial> one TensorBoard run per trial
    leaderboard.csv|.json|.md, report.md, figures/
    retrain/, retrain.json  the best configs retrained over seeds, and their summary
    best/               the exported best model (serving.export)
    pareto/<trial>/     retrain.export: front: each retrained Pareto-front member exported
    pareto.csv|.md      the feasible non-dominated trials (several objectives)
    ensemble/           the top retrained models as one (serving.ensemble)
    crossval/           k-fold cross-validation runs of the best configs
    warm_start.json     the previous experiment's trials given to the searcher (--warm-start)
    optuna.journal      the search as an Optuna study (optuna-dashboard, optuna.load_study)
    ray.log             Ray's and Tune's own output (the console shows it with --verbose)

Writers and readers take an ``ExperimentFolder`` (or its root) and ask it for paths; no other module spells
a file name of the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_FILE = "space.yaml"
TUNE_DIR = "tune"  # Ray Tune's experiment directory
TRAIN_DIR = "train"  # one Ray Train run per trial, named by its trial id (stable across restores)
TENSORBOARD_DIR = "tensorboard"  # one TensorBoard run per trial, by trial id
RETRAIN_DIR = "retrain"
RETRAIN_FILE = "retrain.json"  # written by search.runtime.retrain.run_retraining
BEST_DIR = "best"
REPORT_FILE = "report.md"
FIGURES_DIR = "figures"  # the report's PNGs
LEADERBOARD = "leaderboard"  # .csv (every column), .json (records), .md (the varied hyperparameters)
PARETO_FILE = "pareto"  # .csv and .md: the feasible non-dominated trials (search.results.front)
PARETO_DIR = "pareto"  # retrain.export: front -> one exported model per retrained Pareto-front member
ENSEMBLE_DIR = "ensemble"  # the top retrained models as one exported model (retrain.ensemble)
CROSSVAL_DIR = "crossval"  # one Tune experiment per fold (retrain.cv_folds)
WARM_START_FILE = "warm_start.json"  # the previous experiment's trials the searcher was given (--warm-start)
JOURNAL_FILE = "optuna.journal"  # the search as an Optuna study (search.runtime.journal), for optuna-dashboard
RAY_LOG = "ray.log"  # Ray's and Tune's own output, off the console (search.runtime.console)
PARAMS_FILE = "params.json"  # in a Tune trial's folder: its sampled values
RESULT_FILE = "result.json"  # in a Tune trial's folder: one JSON line per reported epoch
CHECKPOINT_FILE = "checkpoint.pt"  # in a Train checkpoint: the trainer's checkpoint dict


def read_params(trial_dir: Path) -> dict[str, Any]:
    """A Tune trial's params.json: the values sampled for it."""
    return json.loads((trial_dir / PARAMS_FILE).read_text())


@dataclass(frozen=True)
class ExperimentFolder:
    """``results/<name>/``, the paths in it."""

    root: Path

    @property
    def spec(self) -> Path:
        return self.root / SPEC_FILE

    @property
    def tune(self) -> Path:
        return self.root / TUNE_DIR

    @property
    def train(self) -> Path:
        return self.root / TRAIN_DIR

    @property
    def tensorboard(self) -> Path:
        return self.root / TENSORBOARD_DIR

    @property
    def retrain(self) -> Path:
        return self.root / RETRAIN_DIR

    @property
    def retrain_summary(self) -> Path:
        return self.root / RETRAIN_FILE

    @property
    def best(self) -> Path:
        return self.root / BEST_DIR

    @property
    def pareto(self) -> Path:
        return self.root / PARETO_DIR

    @property
    def ensemble(self) -> Path:
        return self.root / ENSEMBLE_DIR

    @property
    def crossval(self) -> Path:
        return self.root / CROSSVAL_DIR

    @property
    def warm_start(self) -> Path:
        return self.root / WARM_START_FILE

    @property
    def ray_log(self) -> Path:
        return self.root / RAY_LOG

    @property
    def journal(self) -> Path:
        return self.root / JOURNAL_FILE

    @property
    def report(self) -> Path:
        return self.root / REPORT_FILE

    @property
    def figures(self) -> Path:
        return self.root / FIGURES_DIR

    def leaderboard(self, suffix: str) -> Path:
        """``leaderboard.<suffix>``: csv, json or md."""
        return self.root / f"{LEADERBOARD}.{suffix}"

    def trial(self, trial_id: str) -> Path:
        """A Tune trial's folder."""
        return self.tune / trial_id

    def checkpoint_dirs(self, trial_id: str) -> list[Path]:
        """The checkpoint folders kept of a trial: Tune's when it trained in-process, its Train run's when it
        was distributed."""
        return [p for d in (self.trial(trial_id), self.train / trial_id) for p in d.glob("checkpoint_*") if p.is_dir()]

    def trained_history(self, trial_id: str) -> list[dict[str, float]]:
        """The epochs a trial trained, from its latest checkpoint (kept whatever its score): the truth when
        Tune missed a report, a stopped trial's run finishing its epoch or a driver killed before a report."""
        import torch  # here only: a trial's driver imports this module and must not load torch (tests/search/runtime/test_driver.py)

        latest = max(self.checkpoint_dirs(trial_id), key=lambda p: p.name, default=None)
        if latest is None:
            return []
        return list(torch.load(latest / CHECKPOINT_FILE, map_location="cpu", weights_only=True)["history"])

    def trial_params(self, trial_id: str) -> dict[str, Any]:
        return read_params(self.trial(trial_id))

    def read_warm_start(self) -> list[dict[str, Any]]:
        """warm_start.json: the previous experiment's trials the searcher was given; [] without --warm-start."""
        return json.loads(self.warm_start.read_text()) if self.warm_start.is_file() else []

    def read_retrained(self) -> dict[str, Any] | None:
        """retrain.json, or None before retraining (or when it was not asked for)."""
        path = self.retrain_summary
        return json.loads(path.read_text()) if path.is_file() else None
