"""Shared fixtures. Ray takes seconds to start, so the suite starts one cluster, on first use, and shuts it
down at the end; commands under test that start their own cluster run as subprocesses."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "datasets" / "avdigits"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory) -> Iterator[object]:
    """A real two-node Ray cluster on this machine (1 CPU each), dashboard on 127.0.0.1 on the head.

    Every Ray worker of the session sees ``AVSEARCH_FAULTS``, the fault file a test may write
    (search/faults.py); no file, no faults.
    """
    import ray
    from ray.cluster_utils import Cluster

    from search.cluster import WORKER_ENV

    fault_file = tmp_path_factory.mktemp("faults") / "faults.json"
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": True, "dashboard_host": "127.0.0.1", "dashboard_port": free_port()},
    )
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False, runtime_env={"env_vars": {**WORKER_ENV, "AVSEARCH_FAULTS": str(fault_file)}})
    cluster.fault_file = fault_file
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def run_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` from the repository root, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
