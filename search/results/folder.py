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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import torch

    from data_utils.preprocess import Preprocessor
    from training.config import TrialConfig

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
HP = "hp."  # prefix of the hyperparameter columns of leaderboard.csv / .json (a trial's config, flattened)
RETRAINED = "retrained"  # the rank of the leaderboard's retrained configs' rows, above the search's trials


def read_params(trial_dir: Path) -> dict[str, Any]:
    """A Tune trial's params.json: the values sampled for it."""
    return json.loads((trial_dir / PARAMS_FILE).read_text())


def read_history(trial_dir: Path) -> list[dict[str, Any]]:
    """The trial's reported epochs, oldest first; an epoch reported again after a retry counts once."""
    path = trial_dir / RESULT_FILE
    if not path.is_file():
        return []
    rows: dict[int, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # blank, or the last line of a driver killed while writing it
            continue
        rows[int(row["epoch"])] = row
    return [rows[e] for e in sorted(rows)]


@dataclass(frozen=True)
class ExperimentFolder:
    """``results/<name>/``: the paths in it, and what is read back from them (trials, their epochs and
    checkpoints, final models, the leaderboard, the front, the retraining summary)."""

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

    def front(self, suffix: str) -> Path:
        """``pareto.<suffix>``: csv or md."""
        return self.root / f"{PARETO_FILE}.{suffix}"

    def trial(self, trial_id: str) -> Path:
        """A Tune trial's folder."""
        return self.tune / trial_id

    def checkpoint_dirs(self, trial_id: str) -> list[Path]:
        """The checkpoint folders kept of a trial: Tune's when it trained in-process, its Train run's when it
        was distributed."""
        return [p for d in (self.trial(trial_id), self.train / trial_id) for p in d.glob("checkpoint_*") if p.is_dir()]

    def latest_checkpoint(self, trial_id: str) -> dict[str, Any] | None:
        """The trainer's checkpoint dict of a trial's latest checkpoint (kept whatever its score), tensors only
        (no unpickling); None when it has none."""
        import torch  # here only: a trial's driver imports this module and must not load torch (tests/search/runtime/test_driver.py)

        latest = max(self.checkpoint_dirs(trial_id), key=lambda p: p.name, default=None)
        return None if latest is None else torch.load(latest / CHECKPOINT_FILE, map_location="cpu", weights_only=True)

    def final_checkpoint(self, trial_id: str) -> dict[str, Any]:
        """``latest_checkpoint``, which the trial must have."""
        state = self.latest_checkpoint(trial_id)
        if state is None:
            raise FileNotFoundError(f"{self.root}: trial {trial_id} has no checkpoint")
        return state

    def trained_history(self, trial_id: str) -> list[dict[str, float]]:
        """The epochs a trial trained, from its latest checkpoint: the truth when Tune missed a report, a
        stopped trial's run finishing its epoch or a driver killed before a report."""
        state = self.latest_checkpoint(trial_id)
        return [] if state is None else list(state["history"])

    def final_model(self, trial_id: str) -> tuple[torch.nn.Module, Preprocessor]:
        """The model (in eval mode) and preprocessing of a trial's latest checkpoint: a retrained run's final weights."""
        _, model, pre = self.final_trial(trial_id)
        return model, pre

    def final_trial(self, trial_id: str) -> tuple[TrialConfig, torch.nn.Module, Preprocessor]:
        """``final_model`` with the typed config saved in the same checkpoint (what the trial trained), read once."""
        from data_utils.preprocess import Preprocessor, audio_shape
        from models import build_model
        from search.space.spec import parse_trial_config

        state = self.final_checkpoint(trial_id)
        trial = parse_trial_config(state["config"])
        model = build_model(trial.model, audio_shape(trial.preprocess.audio_layout))
        model.load_state_dict(state["model"])
        pre = Preprocessor(trial.preprocess)
        pre.load_state_dict(state["preprocessor"])
        return trial, model.eval(), pre

    def trial_params(self, trial_id: str) -> dict[str, Any]:
        return read_params(self.trial(trial_id))

    def trial_ids(self) -> list[str]:
        """The experiment's Tune trials (folders with a params.json), by name."""
        return sorted(d.name for d in self.tune.iterdir() if (d / PARAMS_FILE).is_file()) if self.tune.is_dir() else []

    def history(self, trial_id: str) -> list[dict[str, Any]]:
        """A trial's reported epochs, oldest first (``read_history``)."""
        return read_history(self.trial(trial_id))

    def read_warm_start(self) -> list[dict[str, Any]]:
        """warm_start.json: the previous experiment's trials the searcher was given; [] without --warm-start."""
        return json.loads(self.warm_start.read_text()) if self.warm_start.is_file() else []

    def read_leaderboard(self) -> pd.DataFrame:
        """leaderboard.csv's search trials, best first (the retrained configs' rows left out)."""
        import pandas as pd  # here only, as torch above

        table = pd.read_csv(self.leaderboard("csv"), dtype={"rank": str})
        return table[table["rank"] != RETRAINED].reset_index(drop=True).astype({"rank": int})

    def read_front(self) -> pd.DataFrame:
        """pareto.csv: the feasible trials on the Pareto front of a search of several objectives, best first
        objective first (empty for one objective)."""
        import pandas as pd

        return pd.read_csv(self.front("csv")) if self.front("csv").is_file() else pd.DataFrame()

    def read_retrained(self) -> dict[str, Any] | None:
        """retrain.json, or None before retraining (or when it was not asked for)."""
        path = self.retrain_summary
        return json.loads(path.read_text()) if path.is_file() else None
