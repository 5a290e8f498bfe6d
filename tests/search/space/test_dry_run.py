"""``search.run --dry-run``: the space, sampled configs, one trial's resources and a cost estimate, with no Ray."""

from __future__ import annotations

import subprocess
import sys

from search.space.dry_run import asha_epochs
from search.space.spec import load_spec
from tests.helpers import ROOT

# Runs the command's main() in a fresh interpreter, then says whether anything imported Ray.
PROBE = "import sys; from search.run import main; code = main(sys.argv[1:]); print('ray imported:', 'ray' in sys.modules); sys.exit(code)"


def test_dry_run_prints_the_space_samples_resources_and_estimate_and_starts_no_ray(tmp_path):
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "spaces/smoke.yaml", "--results", str(results), "--dry-run"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ray imported: False" in out
    assert "model.fusion.name: choice ['concat', 'add', 'gated', 'late']" in out
    assert "train.lr: loguniform [0.0003, 0.03] log" in out
    assert "one trial: 1 worker(s) x 1 CPU" in out
    assert out.count(" parameters, ~") == 3  # three sampled configs, each with its size and epoch time
    assert "estimate: 4 trials x" in out
    assert not results.exists()  # nothing written


def test_dry_run_refuses_a_bad_space_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "spaces" / "smoke.yaml").read_text().replace("num_samples", "num_sample"))
    proc = subprocess.run(
        [sys.executable, "-m", "search.run", str(bad), "--dry-run"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "search.num_sample: unknown key" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_asha_epochs_counts_the_trials_each_rung_keeps():
    spec = load_spec(ROOT / "spaces" / "smoke.yaml")  # grace 1, factor 2, max_t 4: rungs 1, 2, 4
    assert asha_epochs(spec) == 1 + (2 - 1) / 2 + (4 - 2) / 4
    assert asha_epochs(load_spec(ROOT / "spaces" / "smoke.yaml", {"scheduler.name": "none"})) == 4
