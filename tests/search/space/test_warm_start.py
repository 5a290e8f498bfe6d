"""Warm start: presets run first as trials of the search; a previous experiment's trials told to the searcher."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from search.runtime.tuner import make_searcher
from search.space.resolve import SAMPLED
from search.space.spec import load_spec, parse_trial_config
from search.space.typed_config import ConfigError
from search.space.warm_start import PRESET, SOURCE, load_presets
from tests.helpers import SPACES

SMOKE = SPACES / "smoke.yaml"


def test_a_warm_start_preset_runs_first_with_its_own_config():
    spec = load_spec(SPACES / "fusion.yaml")
    assert spec.search.warm_start == ("report3_spectrogram_cnn",)  # fusion.yaml starts from the best preset
    searcher = make_searcher(spec)
    first, second = searcher.suggest("t0"), searcher.suggest("t1")
    assert first[SAMPLED][PRESET] == "report3_spectrogram_cnn" and PRESET not in second[SAMPLED]
    preset = parse_trial_config(load_presets(["report3_spectrogram_cnn"])["report3_spectrogram_cnn"])
    trial = parse_trial_config(spec.trial_config(first))
    # the space's keys take the preset's values, its other keys join as fixed values (class_weights is no
    # key of the space)
    assert trial.model == preset.model and trial.preprocess == preset.preprocess and trial.augment == preset.augment
    assert trial.train.class_weights and trial.train.lr == 5e-4 and trial.train.batch_size == 32
    assert trial.train.weight_decay == 1e-6  # the preset's default 0, on a log range: its nearest bound
    assert first["model.image.channels.1"] == 64 and first["_image_blocks"] == 2  # what Optuna was told
    assert searcher._ot_study.trials[0].user_attrs[SOURCE] == "preset report3_spectrogram_cnn"


def test_the_spaces_fixed_values_do_not_change_a_presets_model():
    spec = load_spec(SMOKE, {"search.warm_start": ["report1_a"]})  # smoke's fixed image encoder has fc: [32]
    trial = parse_trial_config(spec.trial_config(make_searcher(spec).suggest("t0")))
    assert trial.model == parse_trial_config(load_presets(["report1_a"])["report1_a"]).model
    assert trial.model.image.params.fc == () and trial.preprocess.audio_layout == "chunks"


@pytest.mark.parametrize(
    ("warm_start", "message"),
    [
        (
            "[report3_spectogram_cnn]",
            "search.warm_start.0: 'report3_spectogram_cnn' is not a preset of seeds.yaml (did you mean 'report3_spectrogram_cnn'?)",
        ),
        (
            "[report1_c]",
            (
                "search.warm_start: report1_c: model.image.fc: the preset sets 100, which the space cannot express "
                "(it holds values one of [64, 128, 256])"
            ),
        ),
        ("[report1_a, report3_spectrogram_cnn, report1_a]", "3 presets, but only 2 trials"),
    ],
)
def test_a_preset_the_space_cannot_run_is_a_load_error(tmp_path, warm_start, message):
    raw = yaml.safe_load((SPACES / "fusion.yaml").read_text())
    raw["search"]["warm_start"] = yaml.safe_load(warm_start)
    raw["search"]["num_samples"] = 2
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        load_spec(path)
    assert message in str(error.value)


def test_previous_trials_are_known_to_the_searcher_without_running(tmp_path):
    spec = load_spec(SMOKE)
    previous = [
        {"sampled": {"model.fusion.name": "add", "train.lr": 0.01}, "value": 0.9, "source": "results/old"},
        {"sampled": {"model.fusion.name": "late", "train.lr": 0.001}, "value": 0.5, "source": "results/old"},
        {
            "sampled": {"model.fusion.name": "bilinear", "train.lr": 0.001},
            "value": 0.7,
            "source": "results/old",
        },  # not in this space
    ]
    searcher = make_searcher(spec, previous)
    study = searcher._ot_study
    assert [(t.params["model.fusion.name"], t.value, t.user_attrs[SOURCE]) for t in study.trials] == [
        ("add", 0.9, "results/old"),
        ("late", 0.5, "results/old"),
    ]
    assert study.best_trial.params["model.fusion.name"] == "add"
    config = searcher.suggest("t0")  # the search goes on from them: new trials are asked for, not replayed
    assert len(study.trials) == 3 and PRESET not in config[SAMPLED]


@pytest.mark.ray
def test_a_search_warm_started_from_a_preset_then_from_its_results_cross_validated_and_ensembled(ray_cluster, tmp_path):
    from search.run import main

    raw = yaml.safe_load(SMOKE.read_text())
    raw["search"].update(num_samples=2, max_concurrent_trials=2, warm_start=["report1_a"])
    raw["scheduler"] = {"name": "none", "max_t": 2}
    raw["retrain"] = {"top_k": 0}
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main([str(path), "--results", str(tmp_path), "--name", "first"]) == 0
    first = pd.read_csv(tmp_path / "first" / "leaderboard.csv")
    assert sorted(first["source"]) == ["preset report1_a", "sampled"]
    preset_row = first[first["source"] == "preset report1_a"].iloc[0]
    assert preset_row["hp.model.image.pool_out"] == 2 and preset_row["hp.model.audio.hidden"] == 32  # the preset's own model

    del raw["search"]["warm_start"]
    raw["search"]["num_samples"] = 1
    # ... and cross-validated (search.runtime.crossval), and ensembled (serving.ensemble)
    raw["retrain"] = {"top_k": 1, "seeds": 2, "ablation": False, "cv_folds": 2, "ensemble": 2}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main([str(path), "--results", str(tmp_path), "--name", "second", "--warm-start", str(tmp_path / "first")]) == 0
    second = pd.read_csv(tmp_path / "second" / "leaderboard.csv", dtype={"rank": str})
    second = second[second["rank"] != "retrained"]
    assert len(second) == 1 and second["source"].tolist() == ["sampled"]  # the earlier trials were not trained again
    given = json.loads((tmp_path / "second" / "warm_start.json").read_text())
    assert len(given) == 2 and {t["source"] for t in given} == {str(tmp_path / "first")}
    assert "The searcher also knew 2 finished trials of" in (tmp_path / "second" / "leaderboard.md").read_text()
    crossval = json.loads((tmp_path / "second" / "retrain.json").read_text())["cross_validation"]
    assert crossval["folds"] == 2 and sorted(r["fold"] for r in crossval["runs"]) == [0, 1]
    (config,) = crossval["configs"]
    assert config["source"] == second["trial_id"].iloc[0] and config["folds"] == 2 and 0 <= config["f1_mean"] <= 1
    report = (tmp_path / "second" / "report.md").read_text()
    assert f"| {config['source']} | 2 | {config['f1_mean']:.4f} ± {config['f1_std']:.4f} |" in report
    ensemble = json.loads((tmp_path / "second" / "retrain.json").read_text())["ensemble"]
    assert ensemble == json.loads((tmp_path / "second" / "ensemble" / "metrics.json").read_text())
    assert ensemble["members"] == 2 and ensemble["single_best"]["run"].endswith("-fused-seed0")
    assert f"| ensemble of 2 (ensemble/model.ts) | {ensemble['ensemble']['f1']:.4f} |" in report
