"""The local Ray cluster a search starts is not open to the network: its dashboard listens on 127.0.0.1
only, and its HTTP API refuses requests without the cluster's token (token authentication kept)."""
from __future__ import annotations

import json
import socket
import subprocess
import sys

import psutil
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.ray

# Runs in a process of its own: the search's own local cluster, not the test session's.
PROBE = """
import json, socket, urllib.error, urllib.request
import ray
from search.cluster import ray_cluster

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
    host, port = ray._private.worker.global_worker.node.webui_url.removeprefix("http://").split(":")
    port = int(port)
    print(json.dumps({"host": host, "loopback": accepts("127.0.0.1", port),
                      "external": {a: accepts(a, port) for a in EXTERNAL}, "status": status(port)}))
"""


def external_addresses() -> list[str]:
    return [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == socket.AF_INET and not a.address.startswith("127.")]


def test_the_local_cluster_dashboard_is_on_loopback_only_and_needs_the_token():
    script = f"EXTERNAL = {external_addresses()!r}\n" + PROBE
    proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    assert probe["host"] == "127.0.0.1"
    assert probe["loopback"]
    assert not any(probe["external"].values()), probe["external"]
    assert probe["status"] in (401, 403)  # no token, no answer
