"""A search joins a separately started two-node cluster (`ray start --head`, then `ray start --address`,
as README's cluster section says), places trials on both nodes and leaves the cluster as it found it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from search.runtime.cluster import ClusterError, check_reachable, free_port
from tests.helpers import ROOT, TrackedCommand

pytestmark = [pytest.mark.ray, pytest.mark.slow]
SMOKE = str(ROOT / "spaces" / "smoke.yaml")
RAY_START = (
    "ray.scripts.scripts",
    "start",
    "--num-cpus",
    "1",
    "--node-ip-address",
    "127.0.0.1",
    "--block",
    "--disable-usage-stats",
)


def node_ports() -> list[str]:
    """Free ports for what each node listens on: several nodes share this machine."""
    return [
        f"--{name}={free_port()}"
        for name in (
            "dashboard-agent-listen-port",
            "dashboard-agent-grpc-port",
            "metrics-export-port",
            "runtime-env-agent-port",
        )
    ]


def wait_for_nodes(address: str, env: dict[str, str], count: int, timeout_s: float = 120) -> None:
    """Until the cluster has ``count`` nodes alive, asked by one client (an interpreter is seconds of CPU)."""
    script = (
        f"import time, ray; ray.init(address={address!r}); deadline = time.monotonic() + {timeout_s}\n"
        f"while sum(n['Alive'] for n in ray.nodes()) < {count} and time.monotonic() < deadline: time.sleep(0.5)\n"
        "print(sum(n['Alive'] for n in ray.nodes()))"
    )
    if run_python(script, env, timeout_s + 60).strip().splitlines()[-1:] != [str(count)]:
        raise TimeoutError(f"the cluster at {address} did not reach {count} nodes")


def run_python(script: str, env: dict[str, str], timeout_s: float = 120) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=timeout_s, env={**os.environ, **env}
    )
    return proc.stdout


@pytest.fixture
def two_node_cluster(tmp_path) -> Iterator[tuple[str, dict[str, str]]]:
    """A head and a worker node started with `ray start`, token authentication on, dashboard on 127.0.0.1."""
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    port = free_port()
    address = f"127.0.0.1:{port}"
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    head = TrackedCommand(
        *RAY_START,
        "--head",
        f"--port={port}",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={free_port()}",
        f"--ray-client-server-port={free_port()}",
        f"--temp-dir={temp_dir}",
        *node_ports(),
        log=tmp_path / "head.log",
        env=env,
    )
    nodes = [head]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                check_reachable(address)
                break
            except ClusterError:
                assert head.proc.poll() is None and time.monotonic() < deadline, head.output()
                time.sleep(1)
        nodes.append(TrackedCommand(*RAY_START, f"--address={address}", *node_ports(), log=tmp_path / "worker.log", env=env))
        wait_for_nodes(address, env, 2)
        yield address, env
    finally:
        for node in reversed(nodes):
            node.stop()
        left = [p for node in nodes for p in node.left_behind(grace_s=20)]
        assert not left, left


def test_a_search_joins_a_separately_started_cluster_and_uses_both_nodes(two_node_cluster, tmp_path):
    address, env = two_node_cluster
    space = tmp_path / "smoke.yaml"  # without retraining: the search's placement is under test
    space.write_text(yaml.safe_dump({**yaml.safe_load(Path(SMOKE).read_text()), "retrain": {"top_k": 0}}))
    driver = TrackedCommand(
        "search.run",
        str(space),
        "--address",
        address,
        "--results",
        str(tmp_path),
        "--num-samples",
        "3",
        "--max-epochs",
        "2",
        log=tmp_path / "search.log",
        env=env,
    )
    assert driver.wait(timeout=500) == 0, driver.output()
    assert not driver.left_behind()  # the cluster is not the driver's: it starts no process of its own
    root = tmp_path / "smoke"
    nodes = {json.loads(line)["node_id"] for f in (root / "tune").glob("*/result.json") for line in f.read_text().splitlines()}
    assert len(nodes) == 2
    assert len(list((root / "tune").glob("*/result.json"))) == 3
    # the cluster lives on, with every CPU free again
    script = (
        f"import ray; ray.init(address={address!r}); "
        "print(ray.available_resources().get('CPU'), ray.cluster_resources().get('CPU'))"
    )
    assert run_python(script, env).split() == ["2.0", "2.0"]
