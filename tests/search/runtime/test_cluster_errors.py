"""Cluster problems found once Ray is involved: one clear line, exit code 2, nothing left behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from search.run import main
from search.runtime.cluster import free_port
from tests.helpers import ROOT, TrackedCommand

SMOKE = ROOT / "spaces" / "smoke.yaml"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (f"127.0.0.1:{free_port()}", "no Ray cluster answers there"),
        ("not-an-address", "expected 'auto' or HOST:PORT"),
    ],
    ids=["nothing-listens", "not-an-address"],  # not the port: test ids must not vary between runs (pytest-xdist)
)
def test_address_of_an_absent_cluster_fails_fast(tmp_path, address, expected):
    start = time.monotonic()
    cmd = TrackedCommand(
        "search.run", str(SMOKE), "--results", str(tmp_path / "results"), "--address", address, log=tmp_path / "log"
    )
    assert cmd.wait(timeout=60) == 2
    # The check takes seconds; the rest is the interpreter's imports, up to ~40 s while the suite's other worker
    # runs beside this one (make test: pytest -n 2). ray.init would add a minute or more to those.
    assert time.monotonic() - start < 55
    lines = [line for line in cmd.output().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and address in lines[0] and expected in lines[0], cmd.output()
    assert "Traceback" not in cmd.output()
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*"))
    assert not cmd.left_behind()


@pytest.mark.ray
def test_resources_no_node_can_host_are_refused_before_any_trial(ray_cluster, tmp_path, capsys):
    space = yaml.safe_load(SMOKE.read_text())
    space["resources"]["cpus_per_worker"] = 4  # the test cluster's nodes have 1 CPU each
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(space))
    assert main([str(path), "--results", str(tmp_path / "results")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {path}: resources") and "lower resources.cpus_per_worker" in err[0]
    assert not any(Path(tmp_path / "results").rglob("*"))
