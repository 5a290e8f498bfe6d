"""Shared fixtures. Ray takes seconds to start, so the suite starts one cluster, on first use, and shuts it
down at the end; commands under test that start their own cluster run as subprocesses."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.cluster import free_port, local_worker_env, loopback_only

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "datasets" / "avdigits"


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory) -> Iterator[object]:
    """A real two-node Ray cluster on this machine (1 CPU each), every port on 127.0.0.1.

    Every Ray worker of the session sees ``AVSEARCH_FAULTS``, the fault file a test may write
    (search/faults.py); no file, no faults.
    """
    import ray
    from ray.cluster_utils import Cluster

    fault_file = tmp_path_factory.mktemp("faults") / "faults.json"
    dashboard = free_port()
    env = {**local_worker_env(dashboard), "AVSEARCH_FAULTS": str(fault_file)}
    with loopback_only():  # the driver too: it must be on the nodes' 127.0.0.1, or its tasks never run
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "include_dashboard": True, "dashboard_host": "127.0.0.1", "dashboard_port": dashboard},
        )
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=False, runtime_env={"env_vars": env})
    cluster.fault_file = fault_file
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def run_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m <args>`` from the repository root, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


class TrackedCommand:
    """``python -m <args>`` run as a user would, recording every process it starts (Ray's raylet, GCS,
    dashboard, workers: its descendants), so a test can prove that none outlives it."""

    def __init__(self, *args: str, log: Path, env: dict[str, str] | None = None) -> None:
        import psutil

        self.log = log
        with open(log, "w") as out:
            # A session of its own, as a terminal gives a command: Ctrl-C reaches its whole process group.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        self.started: dict[int, psutil.Process] = {}
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()

    def _watch(self) -> None:
        import psutil

        root = psutil.Process(self.proc.pid)
        while self.proc.poll() is None:
            try:
                for child in root.children(recursive=True):
                    self.started.setdefault(child.pid, child)
            except psutil.NoSuchProcess:
                return
            threading.Event().wait(0.2)

    def interrupt(self) -> None:
        """Ctrl-C at the terminal: SIGINT to every process of the command's group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def terminate(self) -> None:
        """SIGTERM to the command alone, as `timeout` sends it (SLURM and Kubernetes send it to every process)."""
        os.kill(self.proc.pid, signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self.watcher.join()
        return code

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        """SIGTERM to everything the command started (how `ray stop` ends a node's processes), then the
        command itself, which `ray start --block` does not end on SIGTERM, is killed."""
        import psutil

        children = [p for p in self.started.values() if p.is_running()]
        for p in children:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(children, timeout=15)
        self.proc.kill()
        self.proc.wait(30)
        self.watcher.join()

    def left_behind(self, grace_s: float = 30.0) -> list[str]:
        """The processes it started that are still running ``grace_s`` after it exited (then killed)."""
        import psutil

        _, alive = psutil.wait_procs(list(self.started.values()), timeout=grace_s)
        left = []
        for p in alive:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:  # exited; only its (dead) parent never reaped it
                    left.append(" ".join(p.cmdline()[:3]))
                    p.kill()
            except psutil.NoSuchProcess:
                pass
        return left
