"""Grid search over a define-by-run space: every combination of the values its parameters can take.

A parameter that exists only ``when`` earlier ones took given values, or that repeats per block, is
enumerated only where it exists, so the grid holds exactly the configs the space can produce. Only
parameters with finitely many values have a grid: choices, ints and quniform floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from search.space.params import Param, sample
from search.space.typed_config import ConfigError

MAX_POINTS = 10_000  # a grid past this is a mistake in the space (an int range too wide), not a search
CONTINUOUS = ("uniform", "loguniform")


class _Walker:
    """A Suggester that takes the value indices in ``path`` and the first value beyond it, recording
    how many values each decision offered: one walk is one grid point."""

    def __init__(self, path: Sequence[int]) -> None:
        self.path = path
        self.taken: list[int] = []
        self.counts: list[int] = []

    def _pick(self, values: Sequence[Any]) -> Any:
        i = len(self.taken)
        k = self.path[i] if i < len(self.path) else 0
        self.taken.append(k)
        self.counts.append(len(values))
        return values[k]

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self._pick(list(choices))

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return self._pick(range(low, high + 1, step))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float:
        if step is None:  # checked before the walk: a continuous parameter never gets here
            raise ValueError(f"{name} has no grid")
        n = round((high - low) / step)
        return self._pick([min(high, low + i * step) for i in range(n + 1)])


def grid_points(params: Sequence[Param], path: str = "space") -> list[dict[str, Any]]:
    """Every config of the space, as sampled values ({dotted key: value}), in a fixed order.

    Raises:
        ConfigError: a continuous parameter (naming its key), or a grid of more than MAX_POINTS points.

    Example:
        >>> from search.space.params import parse_params
        >>> len(grid_points(parse_params({"a": {"choice": [1, 2]}, "b": {"int": [0, 2], "when": {"a": 2}}})))
        4
    """
    for p in params:
        if p.kind in CONTINUOUS:
            raise ConfigError(
                f"{path}.{p.key}",
                f"a {p.kind} parameter has no grid: give it as a choice, an int or "
                "quniform: [low, high, q], or pick another searcher",
            )
    points: list[dict[str, Any]] = []
    walk: list[int] = []
    while True:
        walker = _Walker(walk)
        points.append(sample(list(params), walker))
        if len(points) > MAX_POINTS:
            raise ConfigError(path, f"the grid has more than {MAX_POINTS} points: narrow its ranges or pick another searcher")
        # the next point: advance the last decision that has values left, and start afresh after it
        for i in reversed(range(len(walker.taken))):
            if walker.taken[i] + 1 < walker.counts[i]:
                walk = [*walker.taken[:i], walker.taken[i] + 1]
                break
        else:
            return points


def size_search_to_grid(sections: dict[str, Any], params: Sequence[Param], raw_search: Mapping[str, Any]) -> None:
    """A grid runs each of its points once: ``search.num_samples`` is the grid's size, and may be left out."""
    n = len(grid_points(params))
    given = raw_search.get("num_samples")
    if given is not None and given != n:
        raise ConfigError(
            "search.num_samples",
            f"the grid has {n} points and runs each once: remove num_samples or set it to {n}, got {given!r}",
        )
    sections["search"] = replace(sections["search"], num_samples=n)
