"""Corruptions and ``python -m search.evaluate``: what each corruption does, and how exported models fare."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from data_utils import train_val_split
from data_utils.corruptions import (
    CORRUPTIONS,
    GAUSSIAN_AUDIO_STD,
    GAUSSIAN_IMAGE_STD,
    corrupt,
)
from search import predict as predict_cli
from search.evaluate import main
from search.space.spec import parse_trial_config
from serving.evaluate import DEFAULT_CORRUPTIONS, evaluate_model, predict_corrupted
from serving.export import export_model, load_exported
from serving.predict import predict
from tests.helpers import SMALL_MODEL, save_kaggle
from training.trainer import train

NOISY = ("audio_noise", "gaussian")  # the corruptions that draw random numbers


def raw_inputs(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw inputs as the loaders give them: uint8 pixels (N, 784), audio (N, 507) with uneven feature scales."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 784), dtype=torch.uint8, generator=gen)
    audio = torch.randn(n, 507, generator=gen) * torch.linspace(0.1, 2.0, 507) + 3.0
    return images, audio


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corruptions_keep_shapes_dtypes_and_leave_their_inputs_alone(name):
    images, audio = raw_inputs()
    before = images.clone(), audio.clone()
    for shapes in ((images, audio), (images.view(-1, 28, 28), audio.view(-1, 39, 13))):
        out_images, out_audio = corrupt(name, *shapes, seed=0)
        assert (out_images.shape, out_images.dtype) == (shapes[0].shape, torch.uint8)
        assert (out_audio.shape, out_audio.dtype) == (shapes[1].shape, torch.float32)
    assert torch.equal(images, before[0]) and torch.equal(audio, before[1])


@pytest.mark.parametrize("name", NOISY)
def test_noise_is_seeded_and_reproducible(name):
    images, audio = raw_inputs()
    a, b, c = corrupt(name, images, audio, seed=3), corrupt(name, images, audio, seed=3), corrupt(name, images, audio, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])
    torch.randn(100)  # the global RNG plays no part
    assert torch.equal(corrupt(name, images, audio, seed=3)[1], a[1])


def test_clean_changes_nothing():
    images, audio = raw_inputs()
    out = corrupt("clean", images, audio)
    assert torch.equal(out[0], images) and torch.equal(out[1], audio)


def test_image_blank_is_all_zeros_and_keeps_the_audio():
    images, audio = raw_inputs()
    blank, same = corrupt("image_blank", images, audio)
    assert blank.count_nonzero() == 0
    assert torch.equal(same, audio)


def test_audio_noise_is_standard_normal_whatever_the_audio_and_keeps_the_image():
    images, audio = raw_inputs(n=2000)
    same, noise = corrupt("audio_noise", images, audio)
    assert torch.equal(same, images)
    assert torch.equal(noise, corrupt("audio_noise", images, audio * 100)[1])  # carries nothing of the audio
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 1) < 0.01


def test_gaussian_noise_is_in_pixel_space_clipped_and_relative_to_each_audio_feature():
    images, audio = raw_inputs(n=4000)
    gray = torch.full_like(images, 128)
    noisy_images, noisy_audio = corrupt("gaussian", gray, audio)
    # Mid-gray is two standard deviations from either end: clipping trims the spread by a few percent.
    spread = (noisy_images.float() - 128).std().item()
    assert 0.9 * GAUSSIAN_IMAGE_STD < spread < GAUSSIAN_IMAGE_STD
    assert abs(noisy_images.float().mean().item() - 128) < 0.5
    for end in (0, 255):  # clipped, not wrapped around: about 2% of the noise lies beyond each end
        assert 0.015 < (noisy_images == end).float().mean().item() < 0.03
    ratio = (noisy_audio - audio).std(0) / audio.std(0)  # per feature, whatever its scale
    assert torch.allclose(ratio, torch.full_like(ratio, GAUSSIAN_AUDIO_STD), rtol=0.1)


def test_an_unknown_corruption_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown corruption 'fog'; known: clean, audio_noise, image_blank, gaussian"):
        corrupt("fog", *raw_inputs())


# --- search.evaluate on exported models ----------------------------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory, small_export):
    """({fusion name: exported model folder} for a concat and an image_only model, Kaggle data folder, dataset)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("evaluate")
    dataset = small_export["dataset"]
    folders = {"concat": small_export["model_dir"]}  # the session's shared concat model
    for fusion in ("image_only",):
        model = {**SMALL_MODEL, "fusion": {"name": fusion}}
        config = parse_trial_config({"model": model, "train": {"epochs": 2, "lr": 3e-3, "batch_size": 64}})
        result = train(config, *train_val_split(dataset.train, 0.2, 0))
        folders[fusion] = export_model(root / fusion, config, result.model, result.preprocessor, result.history[-1])
    return folders, small_export["kaggle"], dataset


def test_clean_accuracy_is_search_predicts(models, tmp_path, capsys):
    folders, data, dataset = models
    clean = evaluate_model(folders["concat"], dataset.test, ["clean"])["corruptions"]["clean"]
    assert predict_cli.main([str(folders["concat"]), "--data", str(data), "--out", str(tmp_path / "s.csv")]) == 0
    printed = re.search(r"test accuracy: (\S+)  macro F1: (\S+)", capsys.readouterr().out)
    assert printed.groups() == (f"{clean['accuracy']:.4f}", f"{clean['f1']:.4f}")
    expected = predict(load_exported(folders["concat"]), dataset.test, 1024)
    assert clean["accuracy"] == (expected == dataset.test.labels).mean()
    assert clean["accuracy"] > 0.8


def test_an_image_only_model_ignores_audio_noise_and_a_fusion_model_does_not(models):
    folders, _, dataset = models
    image_only = load_exported(folders["image_only"])
    clean = predict_corrupted(image_only, dataset.test, "clean")
    assert np.array_equal(predict_corrupted(image_only, dataset.test, "audio_noise"), clean)
    assert not np.array_equal(predict_corrupted(image_only, dataset.test, "image_blank"), clean)
    fused = load_exported(folders["concat"])
    assert not np.array_equal(
        predict_corrupted(fused, dataset.test, "audio_noise"), predict_corrupted(fused, dataset.test, "clean")
    )

    scores = evaluate_model(folders["image_only"], dataset.test)["corruptions"]
    assert scores["audio_noise"] == scores["clean"]
    assert scores["image_blank"]["accuracy"] < 0.3  # one image for every sample: one class at best


def test_results_depend_on_the_seed_only(models):
    folders, _, dataset = models
    full = evaluate_model(folders["concat"], dataset.test, DEFAULT_CORRUPTIONS, seed=5)
    alone = evaluate_model(folders["concat"], dataset.test, ["gaussian"], seed=5, batch_size=7)
    assert alone["corruptions"]["gaussian"] == full["corruptions"]["gaussian"]
    assert full == evaluate_model(str(folders["concat"]), dataset.test, DEFAULT_CORRUPTIONS, seed=5)


def test_the_command_prints_a_table_and_writes_the_json(models, tmp_path, capsys):
    folders, data, dataset = models
    out = tmp_path / "reports" / "robustness.json"
    assert (
        main(
            [str(folders["concat"]), "--data", str(data), "--corruptions", "clean,image_blank", "--out", str(out), "--seed", "2"]
        )
        == 0
    )
    report = json.loads(out.read_text())
    expected = evaluate_model(folders["concat"], dataset.test, ["clean", "image_blank"], seed=2)
    assert report == {"model": str(folders["concat"]), "data": str(data), **expected}
    assert [p.name for p in out.parent.iterdir()] == ["robustness.json"]  # no temp file left
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["corruption", "accuracy", "macro", "F1"]
    for line, (name, scores) in zip(lines[2:4], expected["corruptions"].items()):
        assert line.split() == [name, f"{scores['accuracy']:.4f}", f"{scores['f1']:.4f}"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("no model folder", "model folder .* does not exist"),
        ("no data folder", "data directory .* does not exist"),
        ("no test set", r"no test set \(expected x_test_wr.npy"),
        ("unlabelled test set", "the test set has no labels"),
        ("unwritable --out", "cannot write .*: Is a directory; pick a writable --out path"),
    ],
)
def test_bad_inputs_get_one_line_and_exit_code_2(case, message, models, tmp_path, capsys):
    folders, data, dataset = models
    args = {"model": str(folders["concat"]), "data": str(data), "out": str(tmp_path / "r.json")}
    if case == "no model folder":
        args["model"] = str(tmp_path / "missing")
    elif case == "no data folder":
        args["data"] = str(tmp_path / "missing")
    elif case == "no test set":
        args["data"] = str(save_kaggle(tmp_path / "train_only", dataset, test=False))
    elif case == "unlabelled test set":
        args["data"] = str(save_kaggle(tmp_path / "unlabelled", dataset, test_labels=False))
    elif case == "unwritable --out":
        args["out"] = str(tmp_path)
    assert main([args["model"], "--data", args["data"], "--out", args["out"]]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and re.search(message, lines[0]), lines
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    "value, message",
    [
        ("clean,audio_nosie", "unknown corruption 'audio_nosie' (did you mean 'audio_noise'?); known: clean,"),
        (",", "expected a comma-separated list"),
    ],
)
def test_bad_corruption_lists_are_usage_errors(value, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--data", "demo", "--corruptions", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
