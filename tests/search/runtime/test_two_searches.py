"""Two local searches at once on one machine (two terminals, two experiments): both run to the end, ASHA
stopping trials, and nothing is left behind.

Each search starts its own local Ray cluster, and Ray 2.60 gives every node's dashboard agent the same fixed
HTTP port (52365) with no `ray.init` setting for it: the second cluster's agent cannot bind it, says so in
its log and stays up without its HTTP service (ray/dashboard/agent.py), which a search does not use (the
placement-group cleaner's State API is the dashboard's, on a port of each cluster's own). Slow tier:
`pytest -m long`; `bench/two_searches.py` prints the same run's figures.
"""

from __future__ import annotations

import pytest

from tests.helpers import side_by_side

pytestmark = [pytest.mark.ray, pytest.mark.long]


def test_two_searches_at_once_both_finish_with_early_stopping_and_leave_nothing(tmp_path):
    for run in side_by_side(tmp_path):
        assert run.code == 0, run.output  # exit 1 would mean resources still held at the end
        assert len(run.statuses) == 4, run.statuses
        assert any(s.startswith("stopped early") for s in run.statuses), run.statuses
        assert not run.left_behind
