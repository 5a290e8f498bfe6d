"""The search as an Optuna study in ``results/<name>/optuna.journal``, for optuna-dashboard and ``optuna.load_study``.

Tune's Optuna searcher keeps its study in memory, pickled inside Tune's experiment state, where no Optuna
tool can read it. ``OptunaJournal`` mirrors Tune's trials into a study in Optuna's JournalStorage (a file
of appended operations: it suits a shared filesystem, and a killed driver leaves at most a torn last
line, which the reader skips): each trial's sampled values with their distributions when it starts, its
search metric per epoch as intermediate values, and its final state when it ends (COMPLETE with its best
value once it ran every epoch, PRUNED when stopped early, FAIL when it failed). Trials still running
when the search is interrupted stay RUNNING and go on after ``--resume``; ``finish_journal`` settles what
Tune ends without telling its callbacks (trials a budget stopped).

    optuna-dashboard results/<name>/optuna.journal
    optuna.load_study(study_name=NAME, storage=journal_storage(path))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from ray import tune

from search.results.folder import ExperimentFolder
from search.space.params import sample
from search.space.spec import SearchSpec

TUNE_ID = "tune_trial_id"  # user attribute: the Tune trial (and leaderboard row) of an Optuna trial


def journal_storage(path: str | Path) -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(path)))


class Replay:
    """A Suggester answering with the values Tune's config already holds, noting each one's distribution:
    the define-by-run space run again gives Optuna's names and distributions of a trial's values."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.distributions: dict[str, BaseDistribution] = {}

    def _take(self, name: str, distribution: BaseDistribution) -> Any:
        self.distributions[name] = distribution
        return self.config[name]

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self._take(name, CategoricalDistribution(choices))

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return self._take(name, IntDistribution(low, high, log=log, step=step))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float:
        return self._take(name, FloatDistribution(low, high, log=log, step=step))


def trial_params(spec: SearchSpec, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    """Optuna's params and distributions of the Tune trial ``config`` (a preset grid's trial: its preset and seed)."""
    if spec.presets:
        grid = {"preset": list(spec.presets), "train.seed": list(range(spec.search.num_samples))}
        return {k: config[k] for k in grid}, {k: CategoricalDistribution(v) for k, v in grid.items()}
    replay = Replay(config)
    sample(list(spec.params), replay)
    return {name: config[name] for name in replay.distributions}, replay.distributions


class OptunaJournal(tune.Callback):
    """Keeps ``optuna.journal`` in step with Tune's trials (see the module's docstring)."""

    def __init__(self, path: Path, spec: SearchSpec) -> None:
        self.path, self.spec = str(path), spec
        self.name, self.metric, self.mode, self.max_t = spec.name, spec.search.metric, spec.search.mode, spec.scheduler.max_t
        self._ids: dict[str, int] | None = None  # Tune trial id -> Optuna trial id; reread after a restore
        self._study: optuna.Study | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks with the experiment state: the open storage stays out of it.
        return {**self.__dict__, "_ids": None, "_study": None}

    def study(self) -> optuna.Study:
        if self._study is None:
            self._study = open_study(self.path, self.name, self.mode)
            self._ids = {
                t.user_attrs[TUNE_ID]: t._trial_id for t in self._study.get_trials(deepcopy=False) if TUNE_ID in t.user_attrs
            }
        return self._study

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        study = self.study()
        if trial.trial_id in self._ids:  # retried, or resumed: the same Optuna trial goes on
            return
        params, distributions = trial_params(self.spec, trial.config)
        template = optuna.trial.create_trial(
            state=TrialState.RUNNING, params=params, distributions=distributions, user_attrs={TUNE_ID: trial.trial_id}
        )
        self._ids[trial.trial_id] = study._storage.create_new_trial(study._study_id, template_trial=template)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        study = self.study()
        if self.metric in result and trial.trial_id in self._ids:
            study._storage.set_trial_intermediate_value(
                self._ids[trial.trial_id], int(result["epoch"]), float(result[self.metric])
            )

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.finish(trial.trial_id, failed=False)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.finish(trial.trial_id, failed=True)

    def finish(self, tune_id: str, failed: bool) -> None:
        study = self.study()
        if tune_id in self._ids:
            backfill(study, self._ids[tune_id], ExperimentFolder(Path(self.path).parent), tune_id, self.metric)
            settle(study, self._ids[tune_id], self.mode, self.max_t, failed)


def open_study(path: str | Path, name: str, mode: str) -> optuna.Study:
    return optuna.create_study(
        storage=journal_storage(path), study_name=name, load_if_exists=True, direction="maximize" if mode == "max" else "minimize"
    )


def backfill(study: optuna.Study, trial_id: int, folder: ExperimentFolder, tune_id: str, metric: str) -> None:
    """Fill the gaps in a running Optuna trial's epochs from what its Tune trial trained (its latest checkpoint,
    read only when there is a gap): a driver killed between an epoch's checkpoint and its report leaves that
    epoch out, and the resumed trial goes on after it. Only epochs before its last reported one: those after it
    Tune never recorded (the leaderboard neither)."""
    storage = study._storage
    known = storage.get_trial(trial_id).intermediate_values
    last = max(known, default=0)
    if len(known) == last:  # epochs 1..last, every one: no gap (the rule, but after an interruption)
        return
    for row in folder.trained_history(tune_id):
        if metric in row and int(row["epoch"]) not in known and int(row["epoch"]) < last:
            storage.set_trial_intermediate_value(trial_id, int(row["epoch"]), float(row[metric]))


def settle(study: optuna.Study, trial_id: int, mode: str, max_t: int, failed: bool) -> None:
    """Give a running Optuna trial its final state from its intermediate values: the same rule as the
    leaderboard's status (every epoch: complete, with its best value; fewer: pruned)."""
    storage = study._storage
    trial = storage.get_trial(trial_id)
    if trial.state.is_finished():
        return
    values = trial.intermediate_values
    if failed:
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
    elif values and max(values) >= max_t:
        storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [(max if mode == "max" else min)(values.values())])
    else:
        storage.set_trial_state_values(trial_id, TrialState.PRUNED)


def finish_journal(root: Path, spec: SearchSpec, table: pd.DataFrame) -> None:
    """Settle the trials that Tune ended without telling its callbacks (a budget's stop), as the leaderboard sees them."""
    path = ExperimentFolder(root).journal
    if not path.is_file() or table.empty:
        return
    study = open_study(path, spec.name, spec.search.mode)
    status = dict(zip(table["trial_id"], table["status"]))
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        tune_id = t.user_attrs.get(TUNE_ID)
        if tune_id in status:
            backfill(study, t._trial_id, ExperimentFolder(root), tune_id, spec.search.metric)
            settle(study, t._trial_id, spec.search.mode, spec.scheduler.max_t, failed=status[tune_id] == "failed")
