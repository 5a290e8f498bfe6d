"""No Ray cluster of ours is open to the network: the test suite's own listens on 127.0.0.1 only (the local
cluster a search starts, and its dashboard's token: test_interrupt.py, on the search it stops). Clusters started
with `ray start` listen on every interface in Ray 2.60; `make test` runs the suite in a network namespace with
nothing but loopback (tests/loopback_only.sh)."""

from __future__ import annotations

import os
import socket

import psutil
import pytest

from tests.helpers import is_loopback, listening_addresses

pytestmark = pytest.mark.ray


def test_the_test_session_cluster_listens_on_loopback_only(ray_cluster):
    import ray

    ray.get(ray.remote(lambda: None).remote())
    ours = {p.pid for p in psutil.Process().children(recursive=True)}
    listening = listening_addresses(ours)
    gcs_port = int(ray_cluster.address.rsplit(":", 1)[1])
    assert any(c.laddr.port == gcs_port for c in psutil.net_connections("inet") if c.pid in ours), "the cluster is not up"
    assert all(is_loopback(a) for a in listening), listening


@pytest.mark.skipif(
    os.environ.get("AVSEARCH_LOOPBACK_ONLY") != "1",
    reason="not in a loopback-only network namespace (`make test` runs the suite in one where it can)",
)
def test_the_suite_runs_where_no_other_machine_can_reach_it(ray_cluster):
    # Sockets bound to a wildcard address (as `ray start` nodes bind theirs) accept on every interface
    # there is: here, loopback alone.
    interfaces = {
        a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family in (socket.AF_INET, socket.AF_INET6)
    }
    assert interfaces and all(is_loopback(a) for a in interfaces), interfaces
