"""The Optuna journal: the trials of a define-by-run space as Optuna knows them, and its agreement with the leaderboard."""

from __future__ import annotations

import json

import optuna
import pytest

from search.results.folder import JOURNAL_FILE
from search.runtime.journal import TUNE_ID, journal_storage, trial_params
from search.space.params import sample
from search.space.spec import load_spec
from tests.helpers import ROOT


def test_a_trial_replayed_from_tunes_config_has_optunas_names_values_and_distributions():
    spec = load_spec(ROOT / "spaces" / "fusion.yaml")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        trial = study.ask()
        sample(list(spec.params), trial)
        params, distributions = trial_params(spec, dict(trial.params))  # what Tune's config holds, by name
        assert params == trial.params
        assert distributions == trial.distributions


class FakeTrial:
    """What the callback reads of a Tune trial."""

    def __init__(self, trial_id: str, config: dict) -> None:
        self.trial_id, self.config = trial_id, config


def tune_config(spec, seed: int) -> dict:
    """A Tune trial's config as the searcher makes it: every suggested name, plus the sampled values."""
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed)).ask()
    sampled = sample(list(spec.params), trial)
    return {**trial.params, "sampled": sampled}


def test_the_callback_keeps_the_journal_in_step_across_a_restore_and_optuna_dashboard_reads_it(tmp_path):
    import pickle

    from search.runtime.journal import OptunaJournal

    spec = load_spec(ROOT / "spaces" / "smoke.yaml")  # max_t 4
    path = tmp_path / JOURNAL_FILE
    journal = OptunaJournal(path, spec)
    a, b, c, d = (FakeTrial(t, tune_config(spec, i)) for i, t in enumerate("abcd"))
    for trial in (a, b, c, d):
        journal.on_trial_start(0, [], trial)
    for epoch, f1 in enumerate([0.5, 0.7, 0.6, 0.8], 1):
        journal.on_trial_result(0, [], a, {"epoch": epoch, "val_f1": f1})
    journal.on_trial_complete(0, [], a)  # every epoch: complete, with its best value
    journal.on_trial_result(0, [], b, {"epoch": 1, "val_f1": 0.2})
    journal.on_trial_complete(0, [], b)  # ASHA stopped it
    journal.on_trial_error(0, [], c)
    journal.on_trial_result(0, [], d, {"epoch": 1, "val_f1": 0.3})
    # interrupted: Tune pickles its callbacks with the experiment; the restored one continues trial d
    restored = pickle.loads(pickle.dumps(journal))
    restored.on_trial_start(0, [], d)
    restored.on_trial_result(0, [], d, {"epoch": 2, "val_f1": 0.4})

    study = optuna.load_study(study_name="smoke", storage=journal_storage(path))
    trials = {t.user_attrs[TUNE_ID]: t for t in study.trials}
    assert len(study.trials) == 4
    assert [trials[t].state.name for t in "abcd"] == ["COMPLETE", "PRUNED", "FAIL", "RUNNING"]
    assert trials["a"].value == 0.8 and trials["a"].intermediate_values == {1: 0.5, 2: 0.7, 3: 0.6, 4: 0.8}
    assert trials["d"].intermediate_values == {1: 0.3, 2: 0.4}
    assert trials["b"].params == {k: v for k, v in b.config.items() if k != "sampled"}
    assert study.best_trial.user_attrs[TUNE_ID] == "a"

    dashboard = pytest.importorskip("optuna_dashboard")  # the `dashboard` extra
    from wsgiref.util import setup_testing_defaults

    app = dashboard.wsgi(str(path))  # what `optuna-dashboard PATH` serves

    def get(url: str) -> dict:
        environ, status = {"PATH_INFO": url}, []
        setup_testing_defaults(environ)
        body = b"".join(app(environ, lambda s, headers, *exc: status.append(s)))
        assert status == ["200 OK"], body[:300]
        return json.loads(body)

    assert [s["study_name"] for s in get("/api/studies")["study_summaries"]] == ["smoke"]
    shown = get("/api/studies/0")["trials"]
    assert sorted(t["state"] for t in shown) == ["Complete", "Fail", "Pruned", "Running"]


def test_an_epoch_whose_report_an_interruption_lost_is_filled_in_from_the_trials_checkpoint(tmp_path):
    import torch

    from search.results.folder import CHECKPOINT_FILE, TUNE_DIR
    from search.runtime.journal import OptunaJournal

    spec = load_spec(ROOT / "spaces" / "smoke.yaml")  # max_t 4
    journal = OptunaJournal(tmp_path / JOURNAL_FILE, spec)
    trial = FakeTrial("a", tune_config(spec, 0))
    journal.on_trial_start(0, [], trial)
    # epoch 2 was checkpointed, then the driver was killed before its report; the resumed trial went on at 3
    for epoch in (1, 3, 4):
        journal.on_trial_result(0, [], trial, {"epoch": epoch, "val_f1": epoch / 10})
    history = [{"epoch": e, "val_f1": e / 10} for e in range(1, 6)]  # epoch 5: trained, never recorded by Tune
    checkpoint = tmp_path / TUNE_DIR / "a" / "checkpoint_000004"
    checkpoint.mkdir(parents=True)
    torch.save({"history": history}, checkpoint / CHECKPOINT_FILE)
    journal.on_trial_complete(0, [], trial)

    (t,) = optuna.load_study(study_name=spec.name, storage=journal_storage(tmp_path / JOURNAL_FILE)).get_trials()
    assert t.intermediate_values == {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.4}  # the gap filled; nothing past the last report
    assert t.state.name == "COMPLETE" and t.value == pytest.approx(0.4)
