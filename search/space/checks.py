"""Checks of a space file that span its sections: several objectives and hard limits, and the presets a
search starts from (``search.warm_start``). ``search.space.spec`` calls them while it loads the file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.constants import FOOTPRINT, METRIC_MODES
from search.space.params import Param
from search.space.typed_config import ConfigError, did_you_mean
from search.space.warm_start import load_presets, warm_preset

# Objectives: the reported metrics and what a trial's model costs to deploy (serving.footprint; lower is better).
OBJECTIVE_MODES = {**METRIC_MODES, **dict.fromkeys(FOOTPRINT, "min")}


def check_goals(
    objectives: Mapping[str, str] | None, constraints: Mapping[str, float], metric: str | None, mode: str | None
) -> None:
    """search.objectives and search.constraints: known names, fitting directions, positive limits."""
    if objectives is not None:
        for key, value in (("metric", metric), ("mode", mode)):
            if value is not None:
                raise ConfigError(key, "cannot be given with search.objectives (the first objective is the metric); remove one")
        if not 2 <= len(objectives) <= 3:
            raise ConfigError("objectives", f"expected 2 or 3 objectives, got {len(objectives)}; for one, use search.metric")
        for name, direction in objectives.items():
            if name not in OBJECTIVE_MODES:
                raise ConfigError(
                    f"objectives.{name}",
                    f"unknown objective{did_you_mean(name, OBJECTIVE_MODES)}; valid: {', '.join(OBJECTIVE_MODES)}",
                )
            if direction != OBJECTIVE_MODES[name]:
                raise ConfigError(
                    f"objectives.{name}",
                    f"{direction!r} does not fit {name}: it is better {'higher' if OBJECTIVE_MODES[name] == 'max' else 'lower'} ({OBJECTIVE_MODES[name]})",
                )
    for name, limit in constraints.items():
        if name not in FOOTPRINT:
            raise ConfigError(
                f"constraints.{name}",
                f"unknown limit{did_you_mean(name, FOOTPRINT)}; valid: {', '.join(FOOTPRINT)} (upper limits)",
            )
        if not limit > 0:
            raise ConfigError(f"constraints.{name}", f"must be > 0, got {limit}")


def check_warm_start(
    sections: Mapping[str, Any], params: list[Param], presets: Mapping[str, Any]
) -> tuple[dict[str, Mapping[str, Any]], dict[str, Mapping[str, Any]]]:
    """search.warm_start's presets as full configs, and their sampled values: each one the space can express."""
    names = sections["search"].warm_start
    if not names:
        return {}, {}
    if presets or not params:
        raise ConfigError("search.warm_start", "starts a search from presets: this file searches no space")
    if sections["searcher"].name == "grid":
        raise ConfigError("search.warm_start", "a grid runs every point of its space already: remove warm_start")
    if len(names) > sections["search"].num_samples:
        raise ConfigError(
            "search.warm_start",
            f"{len(names)} presets, but only {sections['search'].num_samples} trials "
            "(search.num_samples), which include them: raise num_samples or start from fewer presets",
        )
    warm = {name: warm_preset(params, name, preset) for name, preset in load_presets(names).items()}
    return {name: full for name, (full, _) in warm.items()}, {name: point for name, (_, point) in warm.items()}
