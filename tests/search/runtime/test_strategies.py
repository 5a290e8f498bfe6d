"""Searchers and schedulers by name: the registries, the grid, and each searcher driven as Tune drives it."""

from __future__ import annotations

import itertools
import pickle
import typing
from pathlib import Path

import optuna
import pytest

from search.runtime.strategies import SCHEDULERS, SEARCHERS
from search.runtime.tuner import make_scheduler, make_searcher
from search.space.grid import grid_points
from search.space.resolve import SAMPLED
from search.space.spec import SchedulerSection, SearcherSection, load_spec, parse_trial_config
from tests.helpers import SPACES

# Conditional (a depth only for the GRU, a width per block), categorical, int, quantized and continuous
# parameters: every kind a sampler can stumble on.
SPACE = """
search: {{metric: val_f1, mode: max{n}}}
searcher: {{name: {searcher}, n_startup_trials: 2, seed: 0}}
scheduler: {{name: {scheduler}, max_t: 2, grace_period: 1, reduction_factor: 2}}
fixed:
  model:
    image: {{name: mlp, fc: [16]}}
    head: {{hidden: [8]}}
  preprocess: {{audio_layout: frames}}
space:
  model.audio.name: {{choice: [gru, mlp]}}
  model.audio.num_layers: {{int: [1, 2], when: {{model.audio.name: gru}}}}
  _fc: {{int: [0, 2]}}
  model.audio.fc: {{choice: [8, 16], repeat: _fc}}
  model.fusion.name: {{choice: [concat, hybrid]}}
  model.head.dropout: {{quniform: [0.0, 0.2, 0.1]}}
{continuous}"""
CONTINUOUS = "  train.lr: {loguniform: [1.0e-3, 1.0e-2]}\n"


def write_space(tmp_path: Path, searcher: str, scheduler: str = "asha") -> Path:
    """The space for ``searcher``: a grid has no continuous parameter and runs as many trials as it has points."""
    grid = searcher == "grid"
    path = tmp_path / f"{searcher}.yaml"
    path.write_text(
        SPACE.format(
            n="" if grid else ", num_samples: 8", searcher=searcher, scheduler=scheduler, continuous="" if grid else CONTINUOUS
        )
    )
    return path


def test_the_registries_are_what_a_space_file_may_name():
    assert typing.get_args(typing.get_type_hints(SearcherSection)["name"]) == tuple(SEARCHERS)
    assert typing.get_args(typing.get_type_hints(SchedulerSection)["name"]) == tuple(SCHEDULERS)


def test_the_grid_holds_every_config_the_space_can_produce_once(tmp_path):
    params = load_spec(write_space(tmp_path, "grid")).params
    points = grid_points(params)
    # counted by hand: audio gru (2 depths) or mlp (1); fc: 1 + 2 + 4 width lists; 2 fusions; 3 dropouts
    assert len(points) == (2 + 1) * (1 + 2 + 4) * 2 * 3 == 126
    assert len({repr(sorted(p.items())) for p in points}) == len(points)
    assert {tuple(p["model.audio.fc"]) for p in points} == {(), (8,), (16,), *itertools.product((8, 16), repeat=2)}
    assert all(("model.audio.num_layers" in p) == (p["model.audio.name"] == "gru") for p in points)
    assert {p["model.head.dropout"] for p in points} == {0.0, 0.1, 0.2}


def test_a_grid_runs_as_many_trials_as_it_has_points(tmp_path):
    assert load_spec(write_space(tmp_path, "grid")).search.num_samples == 126
    assert load_spec(write_space(tmp_path, "grid"), {"search.num_samples": 126}).search.num_samples == 126


@pytest.mark.parametrize("searcher", sorted(SEARCHERS))
def test_each_searcher_drives_the_conditional_space_as_tune_does(tmp_path, searcher):
    """suggest / on_trial_complete as Tune calls them, past the startup trials into the model-based
    sampling, then a pickle round-trip (Tune saves the searcher with the experiment) and more trials."""
    spec = load_spec(write_space(tmp_path, searcher))
    tune_searcher = make_searcher(spec)
    seen = []
    for i in range(8):
        if i == 5:
            tune_searcher = pickle.loads(pickle.dumps(tune_searcher))
        config = tune_searcher.suggest(f"t{i}")
        trial = parse_trial_config(spec.trial_config(config))  # a config the trainer accepts
        seen.append(config[SAMPLED])
        # a score that depends on the values, so that model-based samplers have something to model
        score = 0.5 + 0.1 * (trial.model.fusion.name == "hybrid") + 0.01 * len(trial.model.audio.params.fc)
        tune_searcher.on_trial_complete(f"t{i}", {"val_f1": score, "epoch": 2})
    study = tune_searcher._ot_study
    assert sum(t.state.is_finished() for t in study.trials) == 8
    if searcher == "grid":  # the first points of the grid, in order, none twice
        assert seen == grid_points(spec.params)[:8]


def test_optunas_nsga2_sampler_still_refuses_pickle():
    """The canary of PicklableNSGAII: when Optuna's own sampler pickles, the subclass can go."""
    with pytest.raises(TypeError, match="lock"):
        pickle.dumps(optuna.samplers.NSGAIISampler(population_size=8, seed=0))


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_each_scheduler_counts_epochs(tmp_path, name):
    spec = load_spec(write_space(tmp_path, "random", scheduler=name))
    scheduler = make_scheduler(spec)
    assert getattr(scheduler, "_time_attr", "epoch") == "epoch"  # FIFO has none: it never stops a trial


# A real search for what only Ray shows: the grid's size becoming Tune's trial count and its points the
# trials; HyperBand pausing and resuming our trials; the median rule; a model-based sampler in Tune's loop.
REAL = {
    ("grid", "hyperband"): "  model.fusion.name: {choice: [concat, hybrid]}\n"
    "  model.head.dropout: {quniform: [0.0, 0.1, 0.1], when: {model.fusion.name: concat}}\n",
    ("gp", "median"): "  model.fusion.name: {choice: [concat, hybrid]}\n  train.lr: {loguniform: [1.0e-3, 1.0e-2]}\n",
}


@pytest.mark.ray
@pytest.mark.parametrize(("searcher", "scheduler"), list(REAL))
def test_a_real_search(ray_cluster, tmp_path, searcher, scheduler):
    import pandas as pd
    import yaml

    from search.run import main

    raw = yaml.safe_load((SPACES / "smoke.yaml").read_text())
    raw["searcher"] = {"name": searcher, "n_startup_trials": 1, "seed": 0}
    raw["scheduler"] = {"name": scheduler, "max_t": 2, "grace_period": 1, "reduction_factor": 2}
    raw["search"] = {
        "metric": "val_f1",
        "mode": "max",
        "max_concurrent_trials": 2,
        "max_failures": 1,
        **({} if searcher == "grid" else {"num_samples": 3}),
    }
    raw["retrain"] = {"top_k": 0}
    raw["space"] = yaml.safe_load(REAL[searcher, scheduler])
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main([str(path), "--results", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "smoke" / "leaderboard.csv")
    assert len(table) == 3 and table["val_f1"].notna().all()
    assert table["epochs"].between(1, 2).all()
    assert (table["status"] == "completed").any()
    hp = table.filter(like="model.").rename(columns=lambda c: c.split("hp.")[-1])
    report = (tmp_path / "smoke" / "report.md").read_text()
    assert f"No ASHA rungs (scheduler: {scheduler})" in report
    if searcher == "grid":  # the three points of the grid, each once
        points = {(f, d) for f, d in zip(hp["model.fusion.name"], hp["model.head.dropout"].fillna(-1))}
        assert points == {("concat", 0.0), ("concat", 0.1), ("hybrid", -1)}
