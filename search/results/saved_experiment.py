"""A saved experiment folder read back: its space (``load_experiment``), and its finished trials, which
``--warm-start results/<old>`` gives the searcher (``search.space.warm_start.add_previous``) without training
them again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.errors import UserError
from search.results.folder import ExperimentFolder
from search.results.leaderboard import trial_table
from search.results.report import trial_results
from search.space.spec import SearchSpec, load_spec


def load_experiment(root: Path) -> SearchSpec:
    """The space an experiment ran (its saved space.yaml).

    Raises:
        UserError: ``root`` is no experiment folder.
    """
    spec = ExperimentFolder(root).spec
    if not spec.is_file():
        raise UserError(f"{root}: not an experiment folder (no {spec.name}); give one such as results/fusion")
    return load_spec(spec)


def previous_trials(old: Path, spec: SearchSpec) -> list[dict[str, Any]]:
    """The finished trials of the experiment in ``old``, scored by ``spec``'s metric, for ``--warm-start``.

    Raises:
        UserError: no experiment there, or one without that metric.
    """
    if not spec.params:
        raise UserError("--warm-start gives a searcher earlier trials: this space searches nothing (it runs presets)")
    saved = ExperimentFolder(old).spec
    if not saved.is_file():
        raise UserError(f"--warm-start: no experiment at {old} (no {saved.name}); give a folder such as results/fusion")
    old_spec = load_spec(saved)
    table = trial_table(old, old_spec.search, old_spec.resolver())
    if not table.empty and spec.search.metric not in table:
        raise UserError(f"--warm-start: the trials at {old} have no {spec.search.metric}; rank this search by another --metric")
    return [
        {"sampled": sampled, "value": value, "source": str(old)}
        for sampled, value in trial_results(old, spec.search.metric, table)
    ]
