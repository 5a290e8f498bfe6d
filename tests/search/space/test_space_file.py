"""A space file as a search runs it, and as its experiment folder keeps it for --resume, search.report and
search.retrain."""

from __future__ import annotations

import pytest

from search.api import new_experiment
from search.space.spec import load_spec
from tests.helpers import SPACES


@pytest.mark.parametrize(
    "space, max_t, grace",
    [
        ("fusion.yaml", 2, 2),  # the file's grace period, 3, lowered to the shorter budget
        ("seeds.yaml", 1, 1),  # the default grace period, 2, too
        ("fusion.yaml", 40, 3),  # a longer budget leaves it
    ],
)
def test_the_experiment_folder_keeps_the_space_the_search_ran(tmp_path, space, max_t, grace):
    overrides = {"scheduler.max_t": max_t, "search.num_samples": 3}
    ran = load_spec(SPACES / space, overrides)
    kept = load_spec(new_experiment(tmp_path / "x", SPACES / space, overrides).spec)  # failed before: grace 3 > max_t 2
    assert (ran.scheduler.max_t, ran.scheduler.grace_period) == (max_t, grace)
    assert kept == ran


def test_without_a_grace_period_a_budget_of_one_epoch_is_valid(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text((SPACES / "smoke.yaml").read_text().replace("max_t: 4, grace_period: 1,", "max_t: 1,"))
    assert load_spec(path).scheduler.grace_period == 1  # was "grace_period must be in [1, max_t=1], got 2"
