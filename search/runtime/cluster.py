"""Joining or starting the Ray cluster, checking what it can run, and proving nothing leaked afterwards."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import ray

from common.errors import UserError
from search.runtime.ray_workarounds import loopback_only, start_local
from search.space.spec import SearchSpec
from search.space.typed_config import ConfigError

RESOURCE_KEYS = ("CPU", "GPU")
# Environment of every Ray worker of a search; the Train settings cut per-trial overhead (bench/search_overhead.py):
WORKER_ENV = {
    # Train V2 polls its workers every 2 s by default, and a worker's report() waits for that poll.
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    # Two actors, so two processes, per Train run that a search does not use: a watcher of nodes being
    # drained (Tune's retries already cover a lost node) and Prometheus metrics of Train runs.
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0",
    "RAY_TRAIN_METRICS_ENABLED": "0",
    # A trial process that Tune reuses waits this long for the stopped trial's thread to end before the next
    # trial starts in it; Tune's default, 2 s, aborts the next trial ("Could not re-use actor") whenever a trial
    # was stopped mid-epoch (a budget's stop) and its epoch takes longer than that, as real data's do on a CPU.
    "TUNE_FUNCTION_THREAD_TIMEOUT_S": "600",
}
# ray.init waits a minute or more for a cluster that is not there; a plain TCP connect answers in seconds.
CONNECT_TIMEOUT_S = 5.0


class ClusterError(UserError):
    """The cluster named by --address cannot be joined; reported as one line, exit code 2."""


def check_reachable(address: str) -> None:
    """Fail fast when nothing listens at ``address`` (HOST:PORT or ray://HOST:PORT; "auto" is Ray's
    own, quick, lookup)."""
    if address == "auto":
        return
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--address {address}: expected 'auto' or HOST:PORT, e.g. 10.0.0.5:6379")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        reason = e.strerror or "timed out"
        raise ClusterError(
            f"--address {address}: no Ray cluster answers there ({reason}); start one with `ray start --head`, "
            "or leave out --address to run a local one"
        ) from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_worker_env(dashboard_port: int) -> dict[str, str]:
    """WORKER_ENV for a cluster on this machine whose dashboard is on ``dashboard_port``.

    Its workers are told where that dashboard is: with several clusters on the machine, the
    placement-group cleaner's State API cannot tell which is its own ("Found multiple active Ray
    instances"), and the resources of trials that Tune stops stay held.
    """
    return {**WORKER_ENV, "RAY_API_SERVER_ADDRESS": f"http://127.0.0.1:{dashboard_port}"}


@contextmanager
def ray_cluster(address: str | None) -> Iterator[str | None]:
    """Join the cluster at ``address``, or start a local one (token auth kept, every port on 127.0.0.1);
    yields the local cluster's dashboard address (HOST:PORT), None for one joined.

    The local dashboard is not optional: Ray's placement-group cleaner uses its State API to free the
    workers of trials that Tune stops early (ray-project/ray#54305); without it a small machine hangs.
    A caller already connected to Ray (a notebook, a test session) keeps its connection.
    """
    if ray.is_initialized():
        yield None
        return
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    kwargs = {"log_to_driver": False, "logging_level": logging.WARNING, "runtime_env": {"env_vars": WORKER_ENV}}
    dashboard = None
    if address:
        check_reachable(address)
        try:
            ray.init(address=address, **kwargs)
        except ConnectionError as e:
            raise ClusterError(f"--address {address}: {str(e).splitlines()[0]}") from None
    else:
        # "local": a new cluster of our own, even where another one runs on this machine.
        port = free_port()
        with loopback_only():
            context = start_local(
                lambda: ray.init(
                    address="local",
                    include_dashboard=True,
                    dashboard_host="127.0.0.1",
                    dashboard_port=port,
                    **{**kwargs, "runtime_env": {"env_vars": local_worker_env(port)}},
                )
            )
            dashboard = context.dashboard_url
    try:
        yield dashboard
    finally:
        ray.shutdown()


def check_resources(spec: SearchSpec, gpus_per_worker: float) -> None:
    """Fail now, not after a silent wait, when no node can host a trial's worker."""
    res = spec.resources
    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    need = {"CPU": res.cpus_per_worker, "GPU": gpus_per_worker}
    fits = [n for n in nodes if all(n.get(k, 0) >= v for k, v in need.items() if v)]
    if not fits:
        have = ", ".join(f"{n.get('CPU', 0):g} CPU/{n.get('GPU', 0):g} GPU" for n in nodes)
        raise ConfigError(
            "resources",
            f"a worker needs {res.cpus_per_worker:g} CPU and {gpus_per_worker:g} GPU but the cluster's nodes have {have}; "
            "lower resources.cpus_per_worker / gpus_per_worker",
        )
    total = sum(min(n.get(k, 0) // v for k, v in need.items() if v) for n in fits)  # workers each node can host
    if total < res.workers_per_trial:
        raise ConfigError(
            "resources.workers_per_trial",
            f"{res.workers_per_trial} workers of {res.cpus_per_worker:g} CPU and {gpus_per_worker:g} GPU "
            f"do not fit the cluster ({total:g} fit); lower workers_per_trial, cpus_per_worker or gpus_per_worker",
        )


def leaked_resources(timeout_s: float = 30.0) -> dict[str, float]:
    """Resources still held once everything has finished: {} when all of them came back in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        total, free = ray.cluster_resources(), ray.available_resources()
        held = {k: total[k] - free.get(k, 0.0) for k in RESOURCE_KEYS if total.get(k, 0) - free.get(k, 0.0) > 1e-6}
        if not held or time.monotonic() > deadline:
            return held
        time.sleep(0.5)
