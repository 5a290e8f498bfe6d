"""No Ray cluster of ours is open to the network: the local cluster a search starts, and the test suite's
own, listen on 127.0.0.1 only; the search's dashboard refuses requests without the cluster's token (token
authentication kept). Clusters started with `ray start` listen on every interface in Ray 2.60; `make
test` runs the suite in a network namespace with nothing but loopback (tests/loopback_only.sh)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys

import psutil
import pytest

from tests.helpers import ROOT, listening_addresses

pytestmark = pytest.mark.ray

# Runs in a process of its own: the search's own local cluster, not the test session's.
PROBE = """
import json, os, socket, urllib.error, urllib.request
import psutil, ray
from search.runtime.cluster import ray_cluster
from tests.helpers import listening_addresses

def accepts(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False

def status(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/api/jobs/", timeout=10).status
    except urllib.error.HTTPError as e:
        return e.code

with ray_cluster(None):
    ray.get(ray.remote(lambda: None).remote())  # a worker process, listening too
    host, port = ray._private.worker.global_worker.node.webui_url.removeprefix("http://").split(":")
    port = int(port)
    mine = {p.pid for p in psutil.Process().children(recursive=True)} | {os.getpid()}
    listening = sorted(listening_addresses(mine))
    print(json.dumps({"host": host, "loopback": accepts("127.0.0.1", port), "listening": listening,
                      "external": {a: accepts(a, port) for a in EXTERNAL}, "status": status(port)}))
"""


def external_addresses() -> list[str]:
    return [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback  # ::ffff:127.0.0.1 is loopback too


def test_the_search_cluster_listens_on_loopback_only_and_its_dashboard_needs_the_token():
    script = f"EXTERNAL = {external_addresses()!r}\n" + PROBE
    proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    assert probe["host"] == "127.0.0.1"
    assert probe["loopback"]
    assert not any(probe["external"].values()), probe["external"]
    # GCS, raylet, object manager, dashboard and its agent, workers: all there, none beyond loopback.
    assert len(probe["listening"]) >= 1 and all(is_loopback(a) for a in probe["listening"]), probe["listening"]
    assert probe["status"] in (401, 403)  # no token, no answer


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
