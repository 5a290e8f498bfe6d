"""Warm start: a search that begins from the reports' presets, and from a previous experiment's trials.

``search.warm_start: [preset, ...]`` names presets of ``spaces/seeds.yaml``. Each runs first, as a trial
of the search: the searcher is handed the preset's value of every parameter of the space (Optuna's
enqueued trials), and the rest of the preset (its file's fixed values too, and the defaults of what it
leaves unset) is that trial's config, over the space's fixed values. ``--warm-start results/<old>`` gives the searcher the finished trials of a previous
experiment, as completed Optuna trials, without training them again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import optuna
import yaml

from models.classifier import to_dict
from search.space.params import Param, optuna_values, sample
from search.space.resolve import SAMPLED, deep_merge
from search.space.typed_config import ConfigError, did_you_mean, from_dict
from training.config import TrialConfig

SEEDS_FILE = Path(__file__).resolve().parents[2] / "spaces" / "seeds.yaml"
PRESET = "preset"  # the key of a trial's sampled values that names the preset it runs (search.space.resolve merges it)
SOURCE = "source"  # Optuna user attribute: where a trial came from


def load_presets(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The named presets of spaces/seeds.yaml, each with that file's fixed values under it.

    Raises:
        ConfigError: a name that is not a preset there.
    """
    raw = yaml.safe_load(SEEDS_FILE.read_text())
    presets, fixed = raw["presets"], raw.get("fixed") or {}
    out = {}
    for i, name in enumerate(names):
        if name not in presets:
            raise ConfigError(
                f"search.warm_start.{i}",
                f"{name!r} is not a preset of {SEEDS_FILE.name}{did_you_mean(str(name), presets)}; valid: {', '.join(presets)}",
            )
        out[name] = deep_merge(fixed, presets[name])
    return out


def _plain(config: TrialConfig) -> dict[str, Any]:
    """The typed config as nested plain values (lists, not tuples), defaults filled in."""
    sections = {"model": to_dict(config.model), **{k: asdict(getattr(config, k)) for k in ("preprocess", "augment", "train")}}
    return json.loads(json.dumps(sections))


def _lookup(config: Mapping[str, Any], key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _fits(p: Param, value: Any) -> bool:
    if p.kind == "choice":  # True == 1 in Python, but a bool choice is not a number
        return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in p.choices)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if p.kind == "int":
        return float(value).is_integer() and p.low <= value <= p.high and (value - p.low) % (p.step or 1) == 0
    return p.low <= value <= p.high


class _PresetSuggester:
    """Answers each suggestion with the preset's value of that key, where the space can hold it."""

    def __init__(self, params: Sequence[Param], config: Mapping[str, Any], given: Mapping[str, Any], path: str) -> None:
        self.by_key = {p.key: p for p in params}
        self.repeated = {p.repeat: p for p in params if p.repeat}  # block count -> the parameter repeated per block
        self.config, self.given, self.path = config, given, path

    def _answer(self, name: str) -> Any:
        key = name if name in self.by_key else name.rpartition(".")[0]  # per-block names: key.0, key.1, ...
        p = self.by_key[key]
        if key in self.repeated:  # a structural block count: the length of the list it repeats
            value = len(_lookup(self.config, self.repeated[key].key) or [])
        else:
            value = _lookup(self.config, key)
            value = value[int(name.rpartition(".")[2])] if p.repeat else value
        if _fits(p, value):
            return value
        set_by_preset = key in self.repeated or _lookup(self.given, key) is not None
        if not set_by_preset and p.kind != "choice" and isinstance(value, (int, float)) and not isinstance(value, bool):
            # left at its default, which the range misses (weight_decay 0 on a log range): the nearest bound
            return min(max(value, p.low), p.high)
        held = f"one of {list(p.choices)}" if p.kind == "choice" else f"in [{p.low:g}, {p.high:g}]"
        how = "sets" if set_by_preset else "leaves at its default"
        raise ConfigError(
            f"{self.path}: {key}",
            f"the preset {how} {value!r}, which the space cannot express "
            f"(it holds values {held}): widen the space or drop the preset from search.warm_start",
        )

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self._answer(name)

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return int(self._answer(name))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float:
        return float(self._answer(name))


def warm_preset(params: Sequence[Param], name: str, preset: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The preset as a whole trial config, every value filled in (the component defaults of what it leaves
    unset, so that no fixed value of the space changes the preset's model), and the sampled values
    ({dotted key: value}) that make the space produce it.

    Raises:
        ConfigError: naming the preset and the key whose value the space cannot hold.
    """
    path = f"search.warm_start: {name}"
    full = _plain(from_dict(TrialConfig, preset, path))
    return full, sample(list(params), _PresetSuggester(params, full, preset, path))


def enqueue_presets(study: optuna.Study, params: Sequence[Param], points: Mapping[str, Mapping[str, Any]]) -> None:
    """The presets' sampled values ({preset name: point}), in order, as the study's next trials."""

    for name, point in points.items():
        study.enqueue_trial(optuna_values(params, point), user_attrs={SOURCE: f"preset {name}", PRESET: name})


def add_previous(study: optuna.Study, params: Sequence[Param], previous: Sequence[Mapping[str, Any]]) -> int:
    """A previous experiment's finished trials ({"sampled", "value", "source"}) as completed trials of the study;
    returns how many the space can hold (the others are left out)."""

    added = 0
    for trial in previous:
        replay = optuna.trial.FixedTrial(optuna_values(params, trial["sampled"]))
        try:
            sample(list(params), replay)
            study.add_trial(
                optuna.trial.create_trial(
                    params=replay.params,
                    distributions=replay.distributions,
                    value=trial["value"],
                    user_attrs={SOURCE: trial["source"]},
                )
            )
        except ValueError:  # a value the space does not hold (Optuna's FixedTrial and create_trial say so)
            continue
        added += 1
    return added


def trial_source(sampled: Mapping[str, Any]) -> str:
    """Where a trial of this experiment came from, from its Tune config: a preset's name, or sampled."""
    sampled = sampled.get(SAMPLED, sampled)
    return f"preset {sampled[PRESET]}" if PRESET in sampled else "sampled"
