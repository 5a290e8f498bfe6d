"""KeepTrialHistory: a resumed trial's reported epochs survive Tune's copy of its staging file, which for a
distributed trial (no Tune checkpoint) starts empty. The end-to-end resume test runs in-process trials."""

from __future__ import annotations

from types import SimpleNamespace

from search.runtime.ray_workarounds import KeepTrialHistory


def test_a_resumed_trial_starts_from_the_epochs_it_reported(tmp_path):
    kept, staging = tmp_path / "experiment" / "t1", tmp_path / "staging" / "t1"
    kept.mkdir(parents=True)
    (kept / "result.json").write_text('{"epoch": 1}\n{"epoch": 2}\n')
    trial = SimpleNamespace(path=str(kept), local_path=str(staging))
    KeepTrialHistory().on_trial_start(0, [], trial)
    assert (staging / "result.json").read_text() == '{"epoch": 1}\n{"epoch": 2}\n'
    # a staging file already there (Tune restored it, or the trial is running) is left alone
    (staging / "result.json").write_text('{"epoch": 3}\n')
    KeepTrialHistory().on_trial_start(0, [], trial)
    assert (staging / "result.json").read_text() == '{"epoch": 3}\n'
