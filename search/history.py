"""Keeping the epochs a trial reported before an interruption when the search is resumed.

Ray Tune writes each trial's ``result.json`` in a staging folder of the driver and copies it over the
one in the experiment folder. A trial resumed by a new driver starts from an empty staging file, unless
Tune holds a checkpoint of the trial, which a distributed trial never gives it (its checkpoints are Train's):
the copy would then replace the epochs reported before the interruption with those reported after it,
and the leaderboard would lose the trial's best epoch. This callback seeds the staging file first. (An
in-process trial's checkpoints are Tune's, and Tune restores the file itself, over the same copy.)
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ray import tune
from ray.air.constants import EXPR_RESULT_FILE


class KeepTrialHistory(tune.Callback):
    """Copies a resumed trial's result.json into Tune's staging folder before Tune's logger opens it.

    Must come before Tune's own loggers, which Tune appends after the callbacks it is given.
    """

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        staged, kept = Path(trial.local_path, EXPR_RESULT_FILE), Path(trial.path, EXPR_RESULT_FILE)
        if kept.is_file() and not staged.exists():
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kept, staged)
