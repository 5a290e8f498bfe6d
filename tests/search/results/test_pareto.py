"""Pareto fronts and limits: the pure functions the scheduler, the searcher and the results share."""

from __future__ import annotations

import numpy as np

from search.results.pareto import (
    broken_limits,
    costs,
    crowding_distance,
    front_ranks,
    non_dominated_sort,
    priority_order,
    spread,
    violations,
)

# (accuracy: max, latency: min)
POINTS = [(0.95, 3.0), (0.94, 3.2), (0.92, 0.5), (0.90, 0.4), (0.93, 1.0), (0.80, 5.0)]
MODES = ["max", "min"]


def test_costs_negate_maximized_objectives() -> None:
    assert costs([(0.9, 2.0)], MODES).tolist() == [[-0.9, 2.0]]


def test_non_dominated_sort_peels_fronts_best_first() -> None:
    fronts = non_dominated_sort(costs(POINTS, MODES))
    assert fronts[0] == [0, 2, 3, 4]  # none of them is both as accurate and as fast as another
    assert fronts[1] == [1]  # dominated by 0 only
    assert fronts[2] == [5]  # dominated by 1 (and others)
    assert front_ranks(costs(POINTS, MODES)).tolist() == [0, 1, 0, 0, 0, 2]


def test_equal_points_share_a_front() -> None:
    assert non_dominated_sort(np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])) == [[0, 1], [2]]


def test_crowding_distance_prefers_the_extremes_then_the_isolated() -> None:
    front = np.array([[0.0, 4.0], [1.0, 3.0], [1.2, 2.8], [4.0, 0.0]])
    distance = crowding_distance(front)
    assert np.isinf(distance[[0, 3]]).all()
    assert distance[2] > distance[1]  # 2's neighbours (1 and 3) span a wider box than 1's (0 and 2)
    order = priority_order(np.vstack([front, [[5.0, 5.0]]]))
    assert order[-1] == 4 and set(order[:2]) == {0, 3} and order[2] == 2


def test_spread_takes_both_ends_of_the_front_and_best_first_cost_first() -> None:
    points = costs(POINTS, MODES)
    assert spread(points, 1) == [0]  # the most accurate
    assert spread(points, 2) == [0, 3]  # ... and the fastest
    assert spread(points, 3) == [0, 2, 3]  # the front by accuracy: 0, 4, 2, 3; evenly spaced picks
    assert sorted(spread(points, 10)) == [0, 2, 3, 4]  # never more than the front
    assert spread(points[:0], 3) == []


def test_limits() -> None:
    limits = {"params": 200_000, "latency_ms": 2.0}
    assert violations({"params": 312_522, "latency_ms": 1.5}, limits) == {"params": 112_522, "latency_ms": -0.5}
    assert broken_limits({"params": 312_522, "latency_ms": 1.5}, limits) == "params 312,522 > 200,000"
    assert broken_limits({"params": 312_522, "latency_ms": 2.25}, limits) == "params 312,522 > 200,000; latency_ms 2.25 > 2"
    assert broken_limits({"params": 100, "latency_ms": 2.0}, limits) is None  # at the limit is within it
    assert violations({}, limits) == {"params": 0.0, "latency_ms": 0.0}  # not measured: not held against it
