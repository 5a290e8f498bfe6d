"""Several objectives and hard limits: the space file's keys, the footprint measures, the searchers."""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path

import optuna
import pytest
import torch

from common.constants import FOOTPRINT
from search.results.pareto import INFEASIBLE
from search.runtime.goals_search import GoalSearch
from search.runtime.moasha import MultiObjectiveASHA
from search.runtime.tuner import make_scheduler, make_searcher
from search.space.spec import load_spec, parse_trial_config
from search.space.typed_config import ConfigError
from serving.footprint import trial_footprint

SPACES = Path(__file__).resolve().parents[3] / "spaces"
MINIMAL = """
fixed:
  model: {image: {name: mlp}, audio: {name: mlp}, fusion: {name: concat}}
space: {train.lr: {loguniform: [1.0e-3, 1.0e-1]}}
"""


def spec_of(tmp_path: Path, text: str):
    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(MINIMAL + text))
    return load_spec(path)


def test_objectives_replace_metric_and_mode(tmp_path):
    spec = spec_of(
        tmp_path,
        "search: {objectives: {val_robust_f1: max, latency_ms: min, params: min}, constraints: {params: 200000, model_mb: 100}}\n",
    )
    assert spec.search.goals == {"val_robust_f1": "max", "latency_ms": "min", "params": "min"}
    assert (spec.search.metric, spec.search.mode) == ("val_robust_f1", "max")  # the first objective: what ranks, what "best" is
    assert spec.search.footprint == ("params", "model_mb", "latency_ms")
    assert spec.search.latency_batch == 1


def test_single_metric_spaces_are_unchanged(tmp_path):
    spec = spec_of(tmp_path, "search: {metric: val_loss}\n")
    assert spec.search.goals == {"val_loss": "min"} and spec.search.footprint == ()
    assert load_spec(SPACES / "smoke.yaml").search.goals == {"val_f1": "max"}
    assert spec_of(tmp_path, "search: {constraints: {params: 1000}}\n").search.footprint == ("params",)


BAD = [
    (
        "search: {objectives: {val_f1: max, latency_ms: min}, metric: val_f1}",
        "search.metric: cannot be given with search.objectives",
    ),
    ("search: {objectives: {val_f1: max, latency_ms: min}, mode: max}", "search.mode: cannot be given with search.objectives"),
    ("search: {objectives: {val_f1: max}}", "search.objectives: expected 2 or 3 objectives, got 1"),
    ("search: {objectives: {val_f1: max, params: min, model_mb: min, latency_ms: min}}", "expected 2 or 3 objectives, got 4"),
    (
        "search: {objectives: {val_f1: max, latncy_ms: min}}",
        "search.objectives.latncy_ms: unknown objective (did you mean 'latency_ms'?)",
    ),
    (
        "search: {objectives: {val_f1: max, latency_ms: max}}",
        "search.objectives.latency_ms: 'max' does not fit latency_ms: it is better lower (min)",
    ),
    ("search: {objectives: {val_f1: best, latency_ms: min}}", "search.objectives.val_f1: got 'best'; valid: 'max', 'min'"),
    ("search: {objectives: [val_f1, latency_ms]}", "search.objectives: expected a mapping"),
    ("search: {constraints: {flops: 10}}", "search.constraints.flops: unknown limit; valid: params, model_mb, latency_ms"),
    ("search: {constraints: {params: -1}}", "search.constraints.params: must be > 0, got -1"),
    ("search: {constraints: {model_mb: big}}", "search.constraints.model_mb: expected a number, got 'big'"),
    ("search: {latency_batch: 0}", "search: latency_batch must be >= 1, got 0"),
    ("searcher: {name: nsga2, population_size: 1}", "searcher: population_size must be >= 2"),
    ("retrain: {export: all}", "retrain.export: got 'all'; valid: 'best', 'front'"),
]


@pytest.mark.parametrize("text, message", BAD, ids=[m for _, m in BAD])
def test_each_mistake_gets_one_line_with_its_key_path(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        spec_of(tmp_path, text + "\n")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_metric_flag_cannot_override_objectives(tmp_path):
    from search.run import overrides, parse_args

    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(MINIMAL + "search: {objectives: {val_f1: max, params: min}}\n"))
    with pytest.raises(ConfigError, match="search.metric: cannot be given with search.objectives"):
        load_spec(path, overrides(parse_args([str(path), "--metric", "val_loss"])))


def test_footprint_of_an_untrained_model_matches_its_export(tmp_path):
    from models.classifier import count_parameters
    from serving.export import ExportedClassifier, script

    spec = load_spec(SPACES / "smoke.yaml")
    config = parse_trial_config(spec.trial_config({"model.fusion.name": "concat", "train.lr": 0.01}))
    state = torch.get_rng_state()
    measured = trial_footprint(config, FOOTPRINT, "cpu", latency_batch=4)
    assert torch.equal(torch.get_rng_state(), state)  # the trial's own seeding is left alone
    from data_utils.preprocess import Preprocessor, audio_shape
    from models import build_model

    model = build_model(config.model, audio_shape(config.preprocess.audio_layout))
    assert measured["params"] == count_parameters(model)
    buffer = io.BytesIO()
    torch.jit.save(script(ExportedClassifier(Preprocessor(config.preprocess), model).eval()), buffer)
    assert measured["model_mb"] == pytest.approx(len(buffer.getvalue()) / 1e6, rel=0.01)
    assert 0 < measured["latency_ms"] < 1000
    assert set(trial_footprint(config, ["params"])) == {"params"}  # only what is asked: no scripting, no timing


def searcher_of(tmp_path: Path, searcher: str) -> GoalSearch:
    spec = spec_of(
        tmp_path,
        f"search: {{objectives: {{val_f1: max, latency_ms: min}}, constraints: {{params: 1000}}}}\nsearcher: {{name: {searcher}, n_startup_trials: 1, population_size: 2}}\n",
    )
    assert isinstance(make_scheduler(spec), MultiObjectiveASHA)
    search = make_searcher(spec)
    search.set_search_properties(None, None, {})
    return search


@pytest.mark.parametrize("name, sampler", [("tpe", optuna.samplers.TPESampler), ("nsga2", optuna.samplers.NSGAIISampler)])
def test_the_searcher_hears_of_objectives_and_limits(tmp_path, name, sampler):
    search = searcher_of(tmp_path, name)
    assert isinstance(search._ot_study.sampler, sampler)
    assert search._ot_study.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    for trial_id in ("a", "b", "c"):
        assert search.suggest(trial_id) is not None
    nan = float("nan")
    search.on_trial_complete(
        "a", {"epoch": 0, INFEASIBLE: "params 5,000 > 1,000", "val_f1": nan, "latency_ms": 0.4, "params": 5000}
    )
    search.on_trial_complete("b", {"epoch": 2, "val_f1": 0.9, "latency_ms": 0.5, "params": 800})
    search.on_trial_complete("c", {"epoch": 1, "val_f1": 0.8, "latency_ms": 0.3, "params": 900})
    a, b, c = search._ot_study.trials[:3]
    assert [t.state for t in (a, b, c)] == [optuna.trial.TrialState.COMPLETE] * 3
    assert [t.constraints for t in (a, b, c)] == [{"params": 4000.0}, {"params": -200.0}, {"params": -100.0}]  # > 0: infeasible
    assert b.values == [0.9, 0.5] and a.values[0] < 0 and not math.isnan(a.values[0])  # a stand-in below any F1
    assert {t.number for t in search._ot_study.best_trials} == {b.number, c.number}  # Optuna's front: feasible only
    assert search.suggest("d") is not None  # the sampler proposes on from infeasible and feasible trials
