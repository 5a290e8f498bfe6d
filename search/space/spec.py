"""A search space file (``spaces/*.yaml``) -> a validated ``SearchSpec``.

Everything a user wrote is checked here, before any Ray work starts: YAML syntax, unknown keys, types,
ranges, component names, and every trial config the space can produce (drawn at its corners and at
random, then built into typed configs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from common.constants import FOOTPRINT, METRIC_MODES
from search.space.checks import OBJECTIVE_MODES, check_goals, check_warm_start
from search.space.grid import size_search_to_grid
from search.space.params import Param, RecordingSuggester, parse_params, sample
from search.space.resolve import TrialResolver
from search.space.space_file import read_space
from search.space.typed_config import ConfigError, check_keys, from_dict
from training.config import TrialConfig

VALIDATION_DRAWS = 64


@dataclass(frozen=True)
class DataSection:
    source: str = "demo"  # 'demo' (built in) or a directory in the Kaggle or Zenodo layout
    val_fraction: float = 0.2  # of the training data, stratified
    seed: int = 0  # of the train/validation split
    # samples sharing an audio clip or an image stay on one side of the split (data_utils.splits says why)
    group_duplicates: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")


@dataclass(frozen=True)
class SearchSection:
    # val_robust_f1: mean macro F1 on clean, audio-missing and image-missing validation inputs (training.trainer)
    metric: Literal["val_f1", "val_accuracy", "val_loss", "val_robust_f1"] | None = None  # default val_f1
    mode: Literal["max", "min"] | None = None  # default: the metric's direction
    # or several goals at once, {name: max|min} (2 or 3 of OBJECTIVE_MODES): the search looks for the Pareto
    # front; the first objective is what "best" means where one trial must be picked (metric and mode).
    objectives: dict[str, Literal["max", "min"]] | None = None
    # upper limits on FOOTPRINT names: a trial over one is not trained and counts as infeasible
    constraints: dict[str, float] = field(default_factory=dict)
    latency_batch: int = 1  # samples per forward pass when latency_ms is measured
    num_samples: int = 16  # trials
    max_concurrent_trials: int = 2
    time_budget_s: float | None = None  # stop the search after this many seconds of wall time
    # ... or spend at most this many seconds of training and evaluation, summed over its trials' epochs (search.runtime.budget)
    compute_budget_s: float | None = None
    # ... or at most this much work, the same on any machine: samples trained on, summed over the trials' epochs,
    # plus their validation passes' samples at a third each (a forward pass; training.trainer.EVAL_COST)
    budget_sample_epochs: int | None = None
    max_failures: int = 1  # retries of a trial that raised, from its last checkpoint
    warm_start: tuple[str, ...] = ()  # presets of spaces/seeds.yaml run first, as trials of the search (search.space.warm_start)

    def __post_init__(self) -> None:
        if self.num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {self.num_samples}")
        if self.max_concurrent_trials < 1:
            raise ValueError(f"max_concurrent_trials must be >= 1, got {self.max_concurrent_trials}")
        for key in ("time_budget_s", "compute_budget_s", "budget_sample_epochs"):
            if getattr(self, key) is not None and getattr(self, key) <= 0:
                raise ValueError(f"{key} must be > 0, got {getattr(self, key)}")
        if self.compute_budget_s is not None and self.budget_sample_epochs is not None:
            raise ValueError(
                "compute_budget_s and budget_sample_epochs are two caps on the same spending: keep one "
                "(budget_sample_epochs to compare searches, compute_budget_s for seconds)"
            )
        if self.max_failures < 0:
            raise ValueError(f"max_failures must be >= 0, got {self.max_failures}")
        if self.latency_batch < 1:
            raise ValueError(f"latency_batch must be >= 1, got {self.latency_batch}")
        check_goals(self.objectives, self.constraints, self.metric, self.mode)
        # metric and mode always hold the (first) goal: what ranks the leaderboard and picks the best trial
        metric = next(iter(self.objectives)) if self.objectives else self.metric or "val_f1"
        object.__setattr__(self, "metric", metric)
        object.__setattr__(self, "mode", self.mode or OBJECTIVE_MODES[metric])
        if self.mode != METRIC_MODES.get(self.metric, self.mode):
            raise ValueError(f"mode {self.mode!r} does not fit metric {self.metric!r} (loss: min; F1, accuracy: max)")

    @property
    def goals(self) -> dict[str, str]:
        """{name: "max" or "min"}: the objectives, or the one metric."""
        return dict(self.objectives) if self.objectives else {self.metric: self.mode}

    @property
    def footprint(self) -> tuple[str, ...]:
        """The FOOTPRINT names a trial must measure before training: in an objective or a limit."""
        return tuple(name for name in FOOTPRINT if name in self.goals or name in self.constraints)


@dataclass(frozen=True)
class SearcherSection:
    # Optuna's samplers (search.runtime.strategies): TPE (multi-objective with search.objectives), random, every
    # point of a grid (num_samples: its size), Gaussian process, CMA-ES, quasi-Monte Carlo, NSGA-II
    name: Literal["tpe", "random", "grid", "gp", "cmaes", "qmc", "nsga2"] = "tpe"
    multivariate: bool = True  # TPE models parameters jointly
    n_startup_trials: int = 8  # random trials before TPE, GP or CMA-ES takes over
    # NSGA-II's generation size (Optuna's default, 50, is more trials than most searches here run)
    population_size: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_startup_trials < 0:
            raise ValueError(f"n_startup_trials must be >= 0, got {self.n_startup_trials}")
        if self.population_size < 2:
            raise ValueError(f"population_size must be >= 2, got {self.population_size}")


@dataclass(frozen=True)
class SchedulerSection:
    # Ray's schedulers (search.runtime.strategies): ASHA, HyperBand, the median stopping rule; none: every trial runs max_t epochs
    name: Literal["asha", "hyperband", "median", "none"] = "asha"
    max_t: int = 20  # epochs of a trial that is never stopped early
    grace_period: int | None = None  # epochs before ASHA or the median rule may stop a trial; default 2 (max_t if less)
    reduction_factor: int = 3

    def __post_init__(self) -> None:
        if self.max_t < 1:
            raise ValueError(f"max_t must be >= 1 epoch, got {self.max_t}")
        if self.grace_period is None:
            object.__setattr__(self, "grace_period", min(2, self.max_t))
        if not 1 <= self.grace_period <= self.max_t:
            raise ValueError(f"grace_period must be in [1, max_t={self.max_t}], got {self.grace_period}")
        if self.reduction_factor < 2:
            raise ValueError(f"reduction_factor must be >= 2, got {self.reduction_factor}")


@dataclass(frozen=True)
class ResourcesSection:
    workers_per_trial: int = 1  # Ray Train workers (data parallel) per trial
    cpus_per_worker: float = 1.0
    # 'auto': one GPU per worker of a multi-worker trial, else a share sized by max_concurrent_trials (search.runtime.tuner.gpus_per_worker)
    gpus_per_worker: float | Literal["auto"] = "auto"
    # One-worker trials train inside their Tune trial's process (search/runtime/trial_session.py); true runs them as
    # distributed Train runs too (a Train controller and worker per trial), as trials of several workers are.
    distributed: bool = False

    @property
    def in_process(self) -> bool:
        """Whether a trial trains in its Tune trial's own process (Ray Train's local mode)."""
        return self.workers_per_trial == 1 and not self.distributed

    def __post_init__(self) -> None:
        if self.workers_per_trial < 1:
            raise ValueError(f"workers_per_trial must be >= 1, got {self.workers_per_trial}")
        if self.cpus_per_worker <= 0:
            raise ValueError(f"cpus_per_worker must be > 0, got {self.cpus_per_worker}")
        if self.gpus_per_worker != "auto" and not 0 <= self.gpus_per_worker:
            raise ValueError(f"gpus_per_worker must be >= 0 or 'auto', got {self.gpus_per_worker}")
        if self.gpus_per_worker != "auto" and self.gpus_per_worker > 1 and not float(self.gpus_per_worker).is_integer():
            raise ValueError(f"gpus_per_worker above 1 must be a whole number, got {self.gpus_per_worker}")
        if self.workers_per_trial > 1 and self.gpus_per_worker != "auto" and 0 < self.gpus_per_worker < 1:
            raise ValueError(
                f"gpus_per_worker {self.gpus_per_worker:g} with workers_per_trial {self.workers_per_trial}: two workers of "
                "one trial could share a GPU, which NCCL refuses; use gpus_per_worker: 1 (or auto) or workers_per_trial: 1"
            )


@dataclass(frozen=True)
class RetrainSection:
    top_k: int = 1  # best trials to retrain on train + validation for the full epoch budget
    seeds: int = 3  # seeds per retrained config: metrics are reported as mean +- std
    ablation: bool = True  # also retrain the best config as image_only and audio_only
    cv_folds: int = 0  # k >= 2: also k-fold cross-validate the top_k configs on train + validation (search.runtime.crossval)
    ensemble: int = 0  # k >= 2: also export the top k retrained models as one, averaging their probabilities (serving.ensemble)
    # best: export the best config to best/; front: also every retrained Pareto-front member to pareto/<trial_id>/
    export: Literal["best", "front"] = "best"

    def __post_init__(self) -> None:
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0: no retraining), got {self.top_k}")
        for key in ("cv_folds", "ensemble"):
            if getattr(self, key) == 1 or getattr(self, key) < 0:
                raise ValueError(f"{key} must be 0 (none) or >= 2, got {getattr(self, key)}")
        if self.ensemble > self.top_k * self.seeds:
            raise ValueError(
                f"ensemble takes the top {self.ensemble} retrained models, but top_k x seeds = "
                f"{self.top_k * self.seeds} are retrained: lower ensemble or raise top_k or seeds"
            )
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {self.seeds}")


# Schedulers that stop trials by several objectives (asha: search.runtime.moasha's multi-objective ASHA), or none.
MULTI_OBJECTIVE_SCHEDULERS = ("asha", "none")

SECTIONS = {
    "data": DataSection,
    "search": SearchSection,
    "searcher": SearcherSection,
    "scheduler": SchedulerSection,
    "resources": ResourcesSection,
    "retrain": RetrainSection,
}


@dataclass(frozen=True)
class SearchSpec:
    """A validated search: its sections, the parameters to sample and the fixed values."""

    name: str
    data: DataSection = field(default_factory=DataSection)
    search: SearchSection = field(default_factory=SearchSection)
    searcher: SearcherSection = field(default_factory=SearcherSection)
    scheduler: SchedulerSection = field(default_factory=SchedulerSection)
    resources: ResourcesSection = field(default_factory=ResourcesSection)
    retrain: RetrainSection = field(default_factory=RetrainSection)
    fixed: Mapping[str, Any] = field(default_factory=dict)  # nested, part of every trial's config
    params: tuple[Param, ...] = ()
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # named configs, run as a grid
    warm_presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # search.warm_start's full configs, by name
    warm_points: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # ... and their sampled values

    def resolver(self) -> TrialResolver:
        """``trial_config`` as a picklable callable that imports no torch: what a trial's driver runs."""
        return TrialResolver(dict(self.fixed), {**self.warm_presets, **self.presets}, self.scheduler.max_t)

    def trial_config(self, sampled: Mapping[str, Any]) -> dict[str, Any]:
        """The full nested config of a trial: fixed values, its preset, sampled values, the epoch budget.

        ``sampled``: {dotted key: value}, or a Tune trial config holding them under ``SAMPLED``.
        """
        return self.resolver()(sampled)


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None) -> SearchSpec:
    """Load and fully validate a search space file.

    Args:
        path: the YAML file.
        overrides: dotted keys set on top of the file (the command line's ``--data``, ``--num-samples``...).

    Returns:
        The validated SearchSpec.

    Raises:
        ConfigError: one line naming the file and the key path, for anything invalid.

    Example:
        >>> spec = load_spec("spaces/smoke.yaml", {"scheduler.max_t": 2})
    """
    path = Path(path)
    try:
        spec = parse_spec(read_space(path, overrides), default_name=path.stem)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e.path}" if e.path else str(path), e.message) from None
    return spec


def parse_spec(raw: Mapping[str, Any], default_name: str) -> SearchSpec:
    check_keys(raw, ("name", *SECTIONS, "fixed", "space", "presets"), "")
    name = raw.get("name", default_name)
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ConfigError("name", f"expected a plain experiment name, got {name!r}")
    sections = {key: from_dict(cls, raw.get(key), key) for key, cls in SECTIONS.items()}
    params = parse_params(raw.get("space"))
    if sections["searcher"].name == "grid" and params:
        size_search_to_grid(sections, params, raw.get("search") or {})
    fixed = raw.get("fixed") or {}
    if not isinstance(fixed, Mapping):
        raise ConfigError("fixed", f"expected a mapping of config values, got {type(fixed).__name__}")
    presets = parse_presets(raw.get("presets"), params)
    if any("epochs" in (c.get("train") or {}) for c in (fixed, *presets.values())) or any(
        p.key == "train.epochs" for p in params
    ):
        raise ConfigError("train.epochs", "is set by scheduler.max_t (the epoch budget of every trial); remove it")
    if len(sections["search"].goals) > 1 and sections["scheduler"].name not in MULTI_OBJECTIVE_SCHEDULERS:
        raise ConfigError(
            "scheduler.name",
            f"{sections['scheduler'].name!r} compares one metric; with search.objectives use one of: {', '.join(MULTI_OBJECTIVE_SCHEDULERS)}",
        )
    warm_presets, warm_points = check_warm_start(sections, params, presets)
    spec = SearchSpec(
        name=name,
        fixed=fixed,
        params=tuple(params),
        presets=presets,
        warm_presets=warm_presets,
        warm_points=warm_points,
        **sections,
    )
    validate_trials(spec)
    return spec


def parse_presets(presets: Any, params: list[Param]) -> dict[str, Mapping[str, Any]]:
    """``presets``: {name: partial trial config}. A preset file runs each preset (once per seed), no search."""
    if presets is None:
        return {}
    if not isinstance(presets, Mapping) or not presets:
        raise ConfigError("presets", "expected a non-empty mapping {preset name: trial config}")
    if params:
        raise ConfigError("space", "a file with presets runs them as given: remove the space section")
    for name, preset in presets.items():
        if not isinstance(preset, Mapping):
            raise ConfigError(f"presets.{name}", f"expected a mapping of config values, got {type(preset).__name__}")
    return dict(presets)


def validate_trials(spec: SearchSpec) -> None:
    """Build the typed config of corner and random draws of the space, so a bad value fails now."""
    if spec.presets:
        for preset in spec.presets:
            parse_trial_config(spec.trial_config({"preset": preset}), f"presets.{preset}")
        return
    rng = np.random.default_rng(0)
    for bias in ("low", "high", *["random"] * VALIDATION_DRAWS):
        sampled = sample(list(spec.params), RecordingSuggester(rng, bias))
        parse_trial_config(spec.trial_config(sampled))


def parse_trial_config(config: Mapping[str, Any], path: str = "") -> TrialConfig:
    """A trial's nested config dict (as stored with its results) -> the typed TrialConfig."""
    return from_dict(TrialConfig, config, path)
