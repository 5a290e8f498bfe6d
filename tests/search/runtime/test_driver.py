"""A trial's driver (search.runtime.tuner.make_driver), as Ray ships it to the trial's process: it resolves the trial's
config there without importing torch, which would cost every trial seconds of CPU and hundreds of MiB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ray import cloudpickle

from search.runtime.tuner import make_driver
from search.space.spec import load_spec
from tests.helpers import ROOT, SPACES

# A fresh process, as a trial's is: Ray and Tune loaded, then the driver unpickled and its resolver run.
LOAD = """
import inspect, json, pickle, sys
import ray.train, ray.tune
driver = pickle.loads(sys.stdin.buffer.read())
config = inspect.getclosurevars(driver).nonlocals["resolve"](json.loads(sys.argv[1]))
print(json.dumps({"torch": "torch" in sys.modules, "config": config}))
"""


def load_in_fresh_process(driver, sampled: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", LOAD, json.dumps(sampled)],
        input=cloudpickle.dumps(driver),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout.decode().splitlines()[-1])


@pytest.mark.parametrize(
    "space, sampled",
    [
        ("smoke.yaml", {"sampled": {"model.fusion.name": "add", "train.lr": 0.01}}),
        ("seeds.yaml", {"preset": "report1_c", "train.seed": 1}),
    ],
)
def test_a_search_trials_driver_resolves_its_config_without_torch(tmp_path: Path, space: str, sampled: dict):
    spec = load_spec(SPACES / space)
    loaded = load_in_fresh_process(make_driver(spec, None, tmp_path, use_gpu=False, gpus=0.0), sampled)
    assert not loaded["torch"]
    assert loaded["config"] == spec.trial_config(sampled)


def test_a_retraining_drivers_resolver_is_shipped_too(tmp_path: Path):
    spec = load_spec(SPACES / "smoke.yaml")
    configs = {"fused_seed0": spec.trial_config({"model.fusion.name": "late"})}
    driver = make_driver(spec, None, tmp_path, use_gpu=False, gpus=0.0, resolve=lambda s: configs[s["run"]], keep_best=False)
    loaded = load_in_fresh_process(driver, {"run": "fused_seed0"})
    assert not loaded["torch"]
    assert loaded["config"] == configs["fused_seed0"]
