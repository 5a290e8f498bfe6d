"""How many GPUs each Train worker asks for: the ``gpus_per_worker: auto`` rule of README's GPU paragraph."""

from __future__ import annotations

import pytest

from search.runtime.tuner import gpus_per_worker
from search.space.spec import SearchSpec, parse_spec

MODEL = {"model": {"image": {"name": "mlp"}, "audio": {"name": "mlp"}, "fusion": {"name": "concat"}}}


def spec(workers: int = 1, gpus: float | str = "auto", concurrent: int = 4) -> SearchSpec:
    return parse_spec(
        {
            "search": {"max_concurrent_trials": concurrent},
            "resources": {"workers_per_trial": workers, "gpus_per_worker": gpus},
            "fixed": MODEL,
        },
        "test",
    )


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_auto_asks_for_no_gpu_on_a_cluster_without_gpus(workers):
    assert gpus_per_worker(spec(workers), cluster_gpus=0) == 0.0


@pytest.mark.parametrize("workers, cluster_gpus", [(2, 1), (2, 8), (4, 4)])
def test_auto_gives_each_worker_of_a_multi_worker_trial_a_whole_gpu(workers, cluster_gpus):
    # Whole GPUs are distinct resources: Ray never places two such workers on one device.
    assert gpus_per_worker(spec(workers, concurrent=8), cluster_gpus) == 1.0


@pytest.mark.parametrize(
    "concurrent, cluster_gpus, share",
    [
        (8, 1, 1 / 8),  # fusion.yaml on one GPU: all 8 trials at once
        (4, 1, 1 / 4),
        (3, 2, 1 / 2),  # 2 trials on one GPU, 1 on the other: a share never spans two GPUs
        (8, 2, 1 / 4),
        (2, 4, 1.0),  # never more than one GPU per trial
        (1, 1, 1.0),
    ],
)
def test_auto_packs_max_concurrent_one_worker_trials_on_the_clusters_gpus(concurrent, cluster_gpus, share):
    assert gpus_per_worker(spec(1, concurrent=concurrent), cluster_gpus) == pytest.approx(share)


@pytest.mark.parametrize("workers, gpus", [(1, 0.25), (1, 2), (2, 1), (2, 0)])
def test_a_number_is_taken_as_given(workers, gpus):
    assert gpus_per_worker(spec(workers, gpus), cluster_gpus=8) == gpus


@pytest.mark.parametrize("gpus, fits", [(1, False), (2, True)])
def test_a_two_worker_trial_needs_two_gpus_and_is_refused_before_any_trial_without_them(monkeypatch, gpus, fits):
    import ray

    from search.runtime.cluster import check_resources
    from search.space.typed_config import ConfigError

    monkeypatch.setattr(ray, "nodes", lambda: [{"Alive": True, "Resources": {"CPU": 16.0, "GPU": float(gpus)}}])
    two = spec(workers=2)
    if fits:
        check_resources(two, gpus_per_worker(two, gpus))
        return
    with pytest.raises(ConfigError, match="2 workers of 1 CPU and 1 GPU do not fit the cluster") as err:
        check_resources(two, gpus_per_worker(two, gpus))
    assert err.value.path == "resources.workers_per_trial"
