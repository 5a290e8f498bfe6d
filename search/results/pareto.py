"""Pareto fronts and hard limits: pure functions over numbers, shared by the scheduler and the results.

Objective values arrive as rows of a table with a direction per column ("max" or "min"); every function
here first turns them into costs (lower is better) with ``costs``. No Ray, no torch: the multi-objective
ASHA (``search.runtime.moasha``), the searcher's constraints and the leaderboard all call the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# The result key of a trial whose model broke a limit before training: why, e.g. "params 312,522 > 200,000".
INFEASIBLE = "infeasible"


def costs(values: Sequence[Sequence[float]] | np.ndarray, modes: Sequence[str]) -> np.ndarray:
    """(n, k) values with a direction per column -> (n, k) costs to minimize (maximized columns negated)."""
    points = np.asarray(values, dtype=float).reshape(-1, len(modes))
    return points * np.array([-1.0 if m == "max" else 1.0 for m in modes])


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Cost vector ``a`` is no worse than ``b`` everywhere and better somewhere."""
    return bool(np.all(a <= b) and np.any(a < b))


def non_dominated_sort(points: np.ndarray) -> list[list[int]]:
    """Fronts of the (n, k) cost rows, best first: front 0 is the Pareto front, front 1 what it dominates
    once front 0 is removed, and so on (Deb et al.'s fast non-dominated sort, O(k n^2))."""
    n = len(points)
    dominated_by: list[list[int]] = [[] for _ in range(n)]  # i -> the rows i dominates
    count = np.zeros(n, dtype=int)  # i -> how many rows dominate i
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j]):
                dominated_by[i].append(j)
                count[j] += 1
            elif dominates(points[j], points[i]):
                dominated_by[j].append(i)
                count[i] += 1
    fronts, current = [], [i for i in range(n) if count[i] == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in dominated_by[i]:
                count[j] -= 1
                if count[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def front_ranks(points: np.ndarray) -> np.ndarray:
    """(n,) the front index of each cost row (0: on the Pareto front)."""
    ranks = np.zeros(len(points), dtype=int)
    for rank, front in enumerate(non_dominated_sort(points)):
        ranks[front] = rank
    return ranks


def crowding_distance(points: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row within one front: the half-perimeter of the box its
    neighbours span, per objective normalized by the front's range; the extremes get infinity."""
    n, k = points.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for m in range(k):
        order = np.argsort(points[:, m], kind="stable")
        span = points[order[-1], m] - points[order[0], m]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (points[order[2:], m] - points[order[:-2], m]) / span
    return distance


def priority_order(points: np.ndarray) -> list[int]:
    """Row indices best first: by front, and within a front the most isolated first (largest crowding
    distance), so that cutting the list keeps the fronts whole and spreads the cut front; ties keep
    the rows' order."""
    order: list[int] = []
    for front in non_dominated_sort(points):
        distance = crowding_distance(points[front])
        order += [front[i] for i in sorted(range(len(front)), key=lambda i: -distance[i])]
    return order


def spread(points: np.ndarray, k: int) -> list[int]:
    """Up to ``k`` rows of the Pareto front of ``points``, spread along it: the front sorted by its first
    cost, then evenly spaced picks that always include its best first cost (first) and, for k >= 2, its
    other end."""
    front = non_dominated_sort(points)[0] if len(points) else []
    front = sorted(front, key=lambda i: tuple(points[i]))
    if k <= 0 or not front:
        return []
    if k >= len(front):
        return front
    picks = np.unique(np.round(np.linspace(0, len(front) - 1, k)).astype(int))
    return [front[i] for i in picks]


def violations(values: Mapping[str, float], limits: Mapping[str, float]) -> dict[str, float]:
    """{name: value - limit} for every limit: > 0 where the value breaks its upper limit. A value not
    measured counts as within its limit (0)."""
    return {name: float(values[name]) - limit if name in values else 0.0 for name, limit in limits.items()}


def broken_limits(values: Mapping[str, float], limits: Mapping[str, float]) -> str | None:
    """``"params 312,522 > 200,000"`` (every broken upper limit, joined by "; "), or None when all hold."""
    broken = [name for name, excess in violations(values, limits).items() if excess > 0]
    if not broken:
        return None
    return "; ".join(f"{name} {number(values[name])} > {number(limits[name])}" for name in broken)


def number(value: float) -> str:
    """Whole numbers with thousands separators, others with 4 significant digits."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"
