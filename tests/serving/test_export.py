"""Exporting a trained trial: the files, the TorchScript model in a fresh process, every layout, ONNX, errors."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from typing import get_args

import numpy as np
import pytest
import torch

from data_utils import make_demo_dataset, train_val_split
from data_utils.preprocess import AudioLayout, Preprocessor, audio_shape
from models.classifier import build_model, count_parameters
from search.space.spec import parse_trial_config
from serving.export import ExportedClassifier, export_model, load_exported, script
from serving.layout import EXPORT_FILES, ONNX_FILE, ExportError
from tests.helpers import untrained
from training.trainer import evaluate, to_device, train

SMALL_MODEL = {
    "image": {"name": "cnn", "channels": [8, 16], "kernels": [3, 3], "fc": [32]},
    "audio": {"name": "gru", "hidden": 16},
    "fusion": {"name": "concat"},
    "head": {"hidden": [32]},
}
LAYOUTS = get_args(AudioLayout)


@pytest.fixture(scope="module")
def demo():
    torch.set_num_threads(1)
    return make_demo_dataset(0)


@pytest.fixture(scope="module")
def trained(demo):
    config = parse_trial_config(
        {
            "model": SMALL_MODEL,
            "preprocess": {"image_scaling": "standardize"},
            "train": {"epochs": 2, "lr": 3e-3, "batch_size": 64},
        }
    )
    train_split, val_split = train_val_split(demo.train, 0.2, 0)
    return config, train(config, train_split, val_split)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, demo, trained):
    config, result = trained
    metrics = {**result.history[-1], "data": demo.source}
    return export_model(tmp_path_factory.mktemp("export") / "best", config, result.model, result.preprocessor, metrics)


def test_export_writes_every_file_and_each_is_valid(exported, trained, demo):
    config, result = trained
    assert sorted(os.listdir(exported)) == sorted(EXPORT_FILES - {ONNX_FILE})
    assert not [p for p in exported.parent.iterdir() if p.name.startswith(".")]  # no staging folder left

    assert parse_trial_config(json.loads((exported / "config.json").read_text())) == config
    metrics = json.loads((exported / "metrics.json").read_text())
    assert metrics == {**result.history[-1], "data": demo.source}

    prep = json.loads((exported / "preprocessing.json").read_text())
    pre = result.preprocessor
    assert (prep["image_scaling"], prep["audio_layout"]) == ("standardize", "frames")
    assert prep["image_mean"] == pre.image_mean.item() and prep["image_std"] == pre.image_std.item()
    assert prep["audio_mean"] == pre.audio_mean.tolist() and prep["audio_std"] == pre.audio_std.tolist()

    # The state dicts load without unpickling anything and rebuild the same model.
    state = torch.load(exported / "state_dict.pt", weights_only=True)
    model = build_model(config.model, audio_shape("frames"))
    model.load_state_dict(state["model"])
    restored = Preprocessor(config.preprocess)
    restored.load_state_dict(state["preprocessor"])
    for name, tensor in result.model.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor.cpu()), name
    assert torch.equal(restored.audio_std, pre.audio_std)

    card = (exported / "MODEL_CARD.md").read_text()
    for needle in (
        "concat fusion",
        f"{count_parameters(result.model):,} trainable parameters",
        "(B, 784) or (B, 28, 28)",
        "(B, 507) or (B, 39, 13)",
        "uint8",
        'torch.jit.load("model.ts")',
        "## Limitations",
        "SYNTHETIC",
        f"{result.history[-1]['val_f1']:.4f}",
    ):
        assert needle in card, needle


# Runs with the project's packages made unimportable: model.ts must need nothing but torch.
FRESH_PROCESS = """
import json, sys
for name in ("search", "models", "data_utils", "training"):
    sys.modules[name] = None
import numpy as np, torch
torch.set_num_threads(1)
folder, data = sys.argv[1], sys.argv[2]
model = torch.jit.load(folder + "/model.ts").eval()
images, audio, labels = (torch.from_numpy(np.load(f"{data}/{n}.npy")) for n in ("images", "audio", "labels"))
with torch.no_grad():
    pred = model(images, audio).argmax(1)
print(json.dumps({"accuracy": (pred == labels).float().mean().item(), "predictions": pred.tolist()}))
"""


def test_torchscript_model_in_a_fresh_process_reproduces_the_test_accuracy(exported, trained, demo, tmp_path):
    _, result = trained
    test = demo.test
    expected = evaluate(result.model, result.preprocessor, to_device(test, result.preprocessor, torch.device("cpu")))
    for name, array in (("images", test.images), ("audio", test.audio), ("labels", test.labels)):
        np.save(tmp_path / f"{name}.npy", array)
    out = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(exported), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["accuracy"] == expected["accuracy"]
    assert got["predictions"] == expected["predictions"].tolist()
    assert expected["accuracy"] > 0.3  # trained: chance is 0.1


def test_square_images_and_audio_frames_give_the_same_logits_as_flat(exported, demo):
    model = load_exported(exported)
    images, audio = torch.from_numpy(demo.test.images[:16]), torch.from_numpy(demo.test.audio[:16])
    with torch.no_grad():
        flat = model(images, audio)
        assert flat.shape == (16, 10) and flat.dtype == torch.float32
        assert torch.equal(model(images.view(16, 28, 28), audio.view(16, 39, 13)), flat)
        assert torch.equal(model(images.view(16, 28, 28), audio), flat)
        assert torch.equal(model(images, audio.double()), flat)  # any float audio is converted


def test_wrong_inputs_are_rejected_with_the_expected_shapes_and_dtypes(exported, demo):
    model = load_exported(exported)
    images, audio = torch.from_numpy(demo.test.images[:4]), torch.from_numpy(demo.test.audio[:4])
    with pytest.raises(Exception, match="images must be uint8"):
        model(images.float() / 255, audio)
    with pytest.raises(Exception, match=r"images must have shape \(B, 784\) or \(B, 28, 28\)"):
        model(images[:, :700], audio)
    with pytest.raises(Exception, match=r"audio must have shape \(B, 507\) or \(B, 39, 13\)"):
        model(images, audio.view(4, 13, 39))
    with pytest.raises(Exception, match="same batch size"):
        model(images, audio[:3])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_audio_layout_exports_scripts_and_matches_eager(layout, demo, tmp_path):
    config, model, pre = untrained(demo, layout, image_scaling="standardize" if layout in ("chunks", "spectrogram") else "unit")
    images, audio = torch.from_numpy(demo.test.images[:8]), torch.from_numpy(demo.test.audio[:8])
    # The trainer's Preprocessor scripts as it is, and gives bit-identical outputs when scripted.
    for got, want in zip(torch.jit.script(pre)(images, audio), pre(images, audio)):
        assert torch.equal(got, want)
    assert isinstance(script(ExportedClassifier(pre, model).eval()), torch.jit.ScriptModule)

    loaded = load_exported(export_model(tmp_path / layout, config, model, pre, {}))
    with torch.no_grad():
        torch.testing.assert_close(loaded(images, audio), model(*pre(images, audio)))
    assert json.loads((tmp_path / layout / "preprocessing.json").read_text())["audio_layout_shape"] == list(audio_shape(layout))


# Every layout, and the fusions that needed care: attention (no ONNX op for its fused fast path) and the
# single-modality ones (the exporter drops an unused input unless told otherwise).
@pytest.mark.parametrize(
    "layout, fusion",
    [(layout, "concat") for layout in LAYOUTS] + [("frames", f) for f in ("attention", "image_only", "audio_only")],
)
def test_onnx_export_matches_pytorch(layout, fusion, demo, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    config, model, pre = untrained(demo, layout, fusion=fusion)
    folder = export_model(tmp_path / "m", config, model, pre, {"val_f1": 0.5}, onnx=True)
    images, audio = demo.test.images[:33], demo.test.audio[:33]  # another batch size than the export's
    session = ort.InferenceSession(str(folder / ONNX_FILE), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images", "audio"]
    (logits,) = session.run(None, {"images": images, "audio": audio})
    with torch.no_grad():
        expected = load_exported(folder)(torch.from_numpy(images), torch.from_numpy(audio))
    assert np.abs(logits - expected.numpy()).max() < 1e-4
    assert "model.onnx" in (folder / "MODEL_CARD.md").read_text()


def test_onnx_without_onnxruntime_is_a_clear_error_and_writes_nothing(monkeypatch, tmp_path, demo):
    config, model, pre = untrained(demo, "frames")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a))
    with pytest.raises(ExportError, match=r"optional package\(s\) onnxruntime: pip install onnx onnxruntime"):
        export_model(tmp_path / "m", config, model, pre, {}, onnx=True)
    assert list(tmp_path.iterdir()) == []


def test_load_exported_errors_name_the_folder(tmp_path, exported):
    with pytest.raises(ExportError, match="does not exist"):
        load_exported(tmp_path / "missing")
    with pytest.raises(ExportError, match=r"holds no exported model \(no model.ts\)"):
        load_exported(tmp_path)
    with pytest.raises(ExportError, match="not a folder"):
        load_exported(exported / "model.ts")
    (tmp_path / "model.ts").write_bytes(b"not a zip file")
    with pytest.raises(ExportError, match="cannot load"):
        load_exported(tmp_path)


def test_export_replaces_a_previous_export_but_never_another_folder(tmp_path, demo):
    config, model, pre = untrained(demo, "frames")
    out = export_model(tmp_path / "m", config, model, pre, {"run": 1})
    export_model(out, config, model, pre, {"run": 2})
    assert json.loads((out / "metrics.json").read_text()) == {"run": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # nothing staged or set aside is left

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match=r"not an exported model \(notes.txt\)"):
        export_model(tmp_path / "other", config, model, pre, {})
    assert os.listdir(tmp_path / "other") == ["notes.txt"]
    with pytest.raises(ExportError, match="is a file"):
        export_model(tmp_path / "other" / "notes.txt", config, model, pre, {})


def test_a_crash_while_writing_leaves_the_previous_export_or_nothing(monkeypatch, tmp_path, demo):
    config, model, pre = untrained(demo, "frames")
    out = export_model(tmp_path / "m", config, model, pre, {"run": 1})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def crash_on_third(fd):
        calls.append(fd)
        if len(calls) == 3:
            raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash_on_third)
    with pytest.raises(OSError, match="disk full"):
        export_model(out, config, model, pre, {"run": 2})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        export_model(tmp_path / "new", config, model, pre, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_metrics_must_be_json_friendly(tmp_path, demo):
    config, model, pre = untrained(demo, "frames")
    out = export_model(tmp_path / "m", config, model, pre, {"acc": torch.tensor(0.5), "f1": np.float64(0.25), "n": np.int64(3)})
    assert json.loads((out / "metrics.json").read_text()) == {"acc": 0.5, "f1": 0.25, "n": 3}
    with pytest.raises(TypeError, match=r"metrics.curve: ndarray is not JSON-serializable"):
        export_model(tmp_path / "n", config, model, pre, {"curve": np.zeros(3)})
