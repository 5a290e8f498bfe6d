"""Search-space parameters and their define-by-run sampling.

A space is an ordered list of parameters keyed by dotted config paths (``model.audio.hidden``). A parameter
may exist only ``when`` earlier ones took given values (LSTM depth only for recurrent encoders), and may
``repeat`` once per block that exists (a kernel size per conv block). A key that starts with ``_`` (such as
``_image_blocks``) is structural: Optuna samples it, but it is no config value of the trial. Sampling asks the Optuna trial for
exactly the parameters that exist, so Optuna sees the true conditional structure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from search.space.typed_config import ConfigError, check_keys, did_you_mean, join

KINDS = ("choice", "int", "uniform", "loguniform", "quniform")


class Suggester(Protocol):
    """The part of ``optuna.Trial`` that sampling uses."""

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...
    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int: ...
    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float: ...


@dataclass(frozen=True)
class Param:
    key: str  # dotted path into the trial config
    kind: str  # one of KINDS
    choices: tuple[Any, ...] = ()  # choice
    low: float = 0.0
    high: float = 0.0
    step: float | None = None  # int step, or quniform quantum
    log: bool = False
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # exists only if each key took one of the values
    repeat: str | None = None  # the key of an int param: one value per index below it

    def active(self, sampled: Mapping[str, Any]) -> bool:
        if self.repeat is not None and self.repeat not in sampled:
            return False  # repeated per block: no blocks, no values
        return all(key in sampled and sampled[key] in values for key, values in self.when)

    @property
    def indexed(self) -> bool:
        """A choice among lists or mappings, which Optuna stores poorly: Optuna sees their indices."""
        return self.kind == "choice" and any(isinstance(c, (list, dict)) for c in self.choices)

    def suggest(self, trial: Suggester, name: str) -> Any:
        if self.kind == "choice":
            if self.indexed:
                return self.choices[trial.suggest_categorical(name, list(range(len(self.choices))))]
            return trial.suggest_categorical(name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        if self.kind == "quniform":
            return trial.suggest_float(name, self.low, self.high, step=self.step)
        return trial.suggest_float(name, self.low, self.high, log=self.kind == "loguniform")


def sample(params: list[Param], trial: Suggester) -> dict[str, Any]:
    """Define-by-run: suggest each active parameter in order. Returns {dotted key: value}.

    A repeated parameter yields a list under its key, one value per index, each suggested under its
    own name (``key.0``, ``key.1``, ...), so that Optuna models each block's value separately.
    """
    sampled: dict[str, Any] = {}
    for p in params:
        if not p.active(sampled):
            continue
        if p.repeat is None:
            sampled[p.key] = p.suggest(trial, p.key)
        else:
            sampled[p.key] = [p.suggest(trial, f"{p.key}.{i}") for i in range(int(sampled[p.repeat]))]
    return sampled


def parse_params(space: Any, path: str = "space") -> list[Param]:
    """Parse the ``space`` section: {dotted key: {kind: args, when: {...}, repeat: key, log: bool, step: n}}.

    Raises:
        ConfigError: for every malformed parameter, naming its key path.
    """
    if space is None:
        return []
    if not isinstance(space, Mapping):
        raise ConfigError(path, f"expected a mapping of parameters, got {type(space).__name__}")
    params: list[Param] = []
    for key, spec in space.items():
        params.append(parse_param(str(key), spec, join(path, str(key)), params))
    return params


def parse_param(key: str, spec: Any, path: str, earlier: list[Param]) -> Param:
    if not isinstance(spec, Mapping):
        raise ConfigError(path, f"expected a mapping like {{choice: [a, b]}} or {{int: [1, 3]}}, got {spec!r}")
    check_keys(spec, (*KINDS, "log", "step", "when", "repeat"), path)
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1:
        raise ConfigError(path, f"give exactly one of {', '.join(KINDS)}")
    kind = kinds[0]
    kpath = join(path, kind)
    args = spec[kind]
    by_key = {p.key: p for p in earlier}
    when = parse_when(spec.get("when"), join(path, "when"), by_key)
    repeat = spec.get("repeat")
    if repeat is not None and (repeat not in by_key or by_key[repeat].kind != "int" or by_key[repeat].repeat):
        raise ConfigError(join(path, "repeat"), f"{repeat!r} must be an earlier int parameter of this space")
    if "log" in spec and not isinstance(spec["log"], bool):
        raise ConfigError(join(path, "log"), f"expected true or false, got {spec['log']!r}")
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise ConfigError(kpath, f"expected a non-empty list of values, got {args!r}")
        if "log" in spec or "step" in spec:
            raise ConfigError(path, "log and step apply to numeric parameters, not to a choice")
        return Param(key, kind, choices=tuple(args), when=when, repeat=repeat)
    if kind == "quniform":
        low, high, q = numbers(args, 3, kpath, "[low, high, q]")
        if q <= 0:
            raise ConfigError(kpath, f"the quantum q must be > 0, got {q}")
        check_range(low, high, kpath)
        return Param(key, kind, low=low, high=high, step=q, when=when, repeat=repeat)
    low, high = numbers(args, 2, kpath, "[low, high]")
    check_range(low, high, kpath)
    log = kind == "loguniform" or spec.get("log", False)
    if log and low <= 0:
        raise ConfigError(kpath, f"a log range needs low > 0, got low={low}")
    step = spec.get("step")
    if kind == "int":
        if not all(float(v).is_integer() for v in (low, high)) or any(isinstance(v, float) for v in args):
            raise ConfigError(kpath, f"int bounds must be integers, got {args!r}")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
            raise ConfigError(join(path, "step"), f"expected an integer >= 1, got {step!r}")
        if step is not None and log:
            raise ConfigError(path, "an int parameter takes log or step, not both")
    elif step is not None:
        raise ConfigError(join(path, "step"), f"step applies to int parameters; use quniform: [low, high, q] for {kind}")
    if kind == "uniform" and "log" in spec:
        raise ConfigError(join(path, "log"), "use loguniform: [low, high] for a log-scaled float")
    return Param(key, kind, low=low, high=high, step=step, log=log, when=when, repeat=repeat)


def parse_when(when: Any, path: str, earlier: Mapping[str, Param]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    if when is None:
        return ()
    if not isinstance(when, Mapping) or not when:
        raise ConfigError(path, f"expected a mapping {{earlier key: [values]}}, got {when!r}")
    out = []
    for key, values in when.items():
        kpath = join(path, str(key))
        if key not in earlier:
            raise ConfigError(kpath, f"a condition must name an earlier parameter of this space{did_you_mean(str(key), earlier)}")
        values = values if isinstance(values, list) else [values]
        cond = earlier[key]
        if cond.kind == "choice":
            unknown = [v for v in values if v not in cond.choices]
            if unknown:
                raise ConfigError(kpath, f"{unknown[0]!r} is not one of that parameter's choices {list(cond.choices)}")
        out.append((str(key), tuple(values)))
    return tuple(out)


def numbers(args: Any, n: int, path: str, form: str) -> tuple[float, ...]:
    if (
        not isinstance(args, list)
        or len(args) != n
        or any(isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a) for a in args)
    ):
        raise ConfigError(path, f"expected {form} (finite numbers), got {args!r}")
    return tuple(args)


def check_range(low: float, high: float, path: str) -> None:
    if low >= high:
        raise ConfigError(path, f"low must be < high, got low={low}, high={high}")


@dataclass
class RecordingSuggester:
    """A Suggester that draws from a seeded random generator: validates spaces without Optuna studies."""

    rng: Any
    bias: str = "random"  # "low" | "high" | "random": corner draws reach every bound
    names: list[str] = field(default_factory=list)

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        self.names.append(name)
        i = {"low": 0, "high": len(choices) - 1}.get(self.bias, None)
        return choices[self.rng.integers(len(choices)) if i is None else i]

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        self.names.append(name)
        if self.bias in ("low", "high"):
            return low if self.bias == "low" else high - (high - low) % step
        return low + step * int(self.rng.integers((high - low) // step + 1))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float:
        self.names.append(name)
        if self.bias in ("low", "high"):
            return low if self.bias == "low" else high
        return float(self.rng.uniform(low, high))


def optuna_values(params: Sequence[Param], sampled: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's sampled values ({key: value}, a list per repeated key) -> Optuna's {name: value}."""
    out: dict[str, Any] = {}
    for p in params:
        if p.key not in sampled:
            continue
        named = {f"{p.key}.{i}": v for i, v in enumerate(sampled[p.key])} if p.repeat else {p.key: sampled[p.key]}
        out.update({name: p.choices.index(v) if p.indexed else v for name, v in named.items()})
    return out
