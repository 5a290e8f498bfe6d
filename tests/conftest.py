"""Shared fixtures. Ray takes seconds to start, so the suite starts one cluster, on first use, and shuts it
down at the end; commands under test that start their own cluster run as subprocesses."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from search.runtime.cluster import free_port, local_worker_env
from search.runtime.ray_workarounds import loopback_only, start_local
from tests.helpers import ROOT

# The longest test files (pytest --durations), run first: `make test`'s two pytest workers take files in this
# order as they free up (--dist loadfile --no-loadscope-reorder), so the short ones fill the end and both
# workers finish together. A file missing here only runs later; one that no longer exists is skipped.
LONGEST_FIRST = (
    "tests/search/runtime/test_search_ray.py",
    "tests/search/runtime/test_interrupt.py",
    "tests/bench/test_real_benchmark.py",
    "tests/search/space/test_warm_start.py",
    "tests/search/runtime/test_external_cluster.py",
    "tests/search/runtime/test_multi_worker.py",
    "tests/search/runtime/test_strategies.py",
    "tests/search/runtime/test_cluster_errors.py",
    "tests/search/results/test_report.py",
    "tests/search/runtime/test_pareto_search.py",
    "tests/search/runtime/test_in_process.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {ROOT / path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory) -> Iterator[object]:
    """A real two-node Ray cluster on this machine (1 CPU each), every port on 127.0.0.1.

    Every Ray worker of the session runs ``tests.faults.install`` at start-up and sees ``AVSEARCH_FAULTS``,
    the fault file a test may write; no file, no faults.
    """
    import ray
    from ray.cluster_utils import Cluster

    fault_file = tmp_path_factory.mktemp("faults") / "faults.json"
    dashboard = free_port()
    # PYTHONPATH: the setup hook runs before a worker takes the driver's sys.path, and tests/ is no installed package
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**local_worker_env(dashboard), "AVSEARCH_FAULTS": str(fault_file), "PYTHONPATH": pythonpath}
    with loopback_only():  # the driver too: it must be on the nodes' 127.0.0.1, or its tasks never run

        def two_nodes() -> Cluster:
            cluster = Cluster(
                initialize_head=True,
                head_node_args={
                    "num_cpus": 1,
                    "include_dashboard": True,
                    "dashboard_host": "127.0.0.1",
                    "dashboard_port": dashboard,
                },
            )
            cluster.add_node(num_cpus=1)
            return cluster

        cluster = start_local(two_nodes)  # both pytest workers start theirs at once: the busiest moment of the suite
        ray.init(
            address=cluster.address,
            log_to_driver=False,
            runtime_env={"env_vars": env, "worker_process_setup_hook": "tests.faults.install"},
        )
    cluster.fault_file = fault_file
    cluster.dashboard_url = f"http://127.0.0.1:{dashboard}"  # the State API's: with two clusters (pytest -n 2) none is implied
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="session")
def small_export(tmp_path_factory) -> dict:
    """One small concat model trained on the demo data (2 epochs) and exported, shared by every test that
    only reads an exported model: {"dataset", "config", "result", "model_dir", "kaggle" (the demo as a
    Kaggle data folder)}."""
    import torch

    from data_utils import make_demo_dataset, train_val_split
    from search.space.spec import parse_trial_config
    from serving.export import export_model
    from tests.helpers import SMALL_MODEL, save_kaggle
    from training.trainer import train

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("small_export")
    dataset = make_demo_dataset(0)
    config = parse_trial_config({"model": SMALL_MODEL, "train": {"epochs": 2, "lr": 3e-3, "batch_size": 64}})
    result = train(config, *train_val_split(dataset.train, 0.2, 0))
    model_dir = export_model(root / "model", config, result.model, result.preprocessor, result.history[-1])
    return {
        "dataset": dataset,
        "config": config,
        "result": result,
        "model_dir": model_dir,
        "kaggle": save_kaggle(root / "kaggle", dataset),
    }
