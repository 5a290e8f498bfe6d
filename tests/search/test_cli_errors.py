"""Bad input to `python -m search.run`: one clear line, exit code 2, no traceback, nothing written."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, run_cli

SMOKE = str(ROOT / "spaces" / "smoke.yaml")


def bad_data_dir(tmp_path: Path) -> str:
    d = tmp_path / "data"
    d.mkdir()
    np.save(d / "x_train_wr.npy", np.zeros((20, 784), np.uint8))
    np.save(d / "x_train_sp.npy", np.zeros((20, 500), np.float32))  # wrong width
    np.save(d / "y_train.npy", np.arange(20) % 10)
    return str(d)


CASES = {
    "missing space file": (lambda t: ["no/such.yaml"], "no/such.yaml: no such file"),
    "unknown flag": (lambda t: [SMOKE, "--num-sample", "3"], "unrecognized arguments: --num-sample"),
    "bad flag value": (lambda t: [SMOKE, "--num-samples", "many"], "invalid int value: 'many'"),
    "zero samples": (lambda t: [SMOKE, "--num-samples", "0"], "num_samples must be >= 1, got 0"),
    "data path missing": (lambda t: [SMOKE, "--data", str(t / "nowhere")], "nowhere"),
    "data wrong shape": (bad_data_dir, "x_train_sp.npy"),
    "resume unknown name": (lambda t: [SMOKE, "--resume", "--name", "never-ran"], "--resume: no experiment"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_one_line_and_exit_code_2(tmp_path, case):
    make_args, expected = CASES[case]
    args = make_args(tmp_path)
    if case == "data wrong shape":
        args = [SMOKE, "--data", args]
    results = tmp_path / "results"
    proc = run_cli("search.run", *args, "--results", str(results), timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not results.exists() or not any(p.is_file() for p in results.rglob("*"))
