"""The reports' hand-tuned models in spaces/seeds.yaml: parameter counts derived by hand, layer by layer."""

from pathlib import Path

import pytest
import torch

from data_utils.preprocess import audio_shape
from models import build_model, count_parameters
from search.space.spec import load_spec, parse_trial_config

SEEDS = load_spec(Path(__file__).resolve().parents[3] / "spaces" / "seeds.yaml")
PRESETS = {name: parse_trial_config(SEEDS.trial_config({"preset": name})) for name in SEEDS.presets}


def conv2d(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def conv1d(k: int, c_in: int, c_out: int) -> int:
    return k * c_in * c_out + c_out


def bn(c: int) -> int:
    return 2 * c


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def lstm_layer(n_in: int, h: int) -> int:  # 4 gates, input and hidden weights, two biases (PyTorch)
    return 4 * (n_in * h + h * h + 2 * h)


# report 1 A: convs without batch norm, their 32 x 2 x 2 = 128 features; LSTM(50 -> 32); concat 160 -> 10
REPORT1_A = conv2d(3, 1, 16) + conv2d(3, 16, 32) + lstm_layer(50, 32) + linear(128 + 32, 10)

# report 1 B and C image: 28 -> 14 -> 7 after two 2x2 pools, 32 x 7 x 7 = 1568 flattened, FC 100, 72 with BN
REPORT1_IMAGE = conv2d(3, 1, 16) + bn(16) + conv2d(3, 16, 32) + bn(32) + linear(1568, 100) + bn(100)
REPORT1_IMAGE += linear(100, 72) + bn(72)
REPORT1_LSTM = lstm_layer(50, 36) + lstm_layer(36, 36)  # B: the last layer's 36 out; C (skip): 36 + 36 = 72
REPORT1_B_HEAD = linear(72 + 36, 86) + linear(86, 54) + linear(54, 10)
REPORT1_C_HEAD_AFTER_FIRST = linear(60, 46) + linear(46, 10)

# report 2 image: 64 x 7 x 7 = 3136 -> 10; audio over 507 steps: 507 -> 253 -> 126, 32 x 126 = 4032 -> 10
REPORT2_IMAGE = conv2d(3, 1, 32) + conv2d(3, 32, 64) + linear(3136, 10)
REPORT2_AUDIO = conv1d(5, 1, 16) + conv1d(5, 16, 32) + linear(4032, 10)

# report 3: image 64 x 7 x 7 = 3136; spectrogram (32, 33) -> (16, 16) -> (8, 8), 64 x 8 x 8 = 4096; sum 7232
REPORT3_CONVS = conv2d(3, 1, 32) + conv2d(3, 32, 64)

EXPECTED = {
    "report1_a": REPORT1_A,
    "report1_b": REPORT1_IMAGE + REPORT1_LSTM + REPORT1_B_HEAD,
    "report1_c": REPORT1_IMAGE + REPORT1_LSTM + 0 + linear(72, 60) + REPORT1_C_HEAD_AFTER_FIRST,  # 0: add
    "report1_c_concat": REPORT1_IMAGE + REPORT1_LSTM + linear(144, 60) + REPORT1_C_HEAD_AFTER_FIRST,
    "report2_logit_mlp": REPORT2_IMAGE + REPORT2_AUDIO + linear(20, 32) + linear(32, 10),
    "report3_spectrogram_cnn": 2 * REPORT3_CONVS + linear(7232, 128) + linear(128, 10),
}


def test_every_preset_has_a_count() -> None:
    assert set(PRESETS) == set(EXPECTED)
    assert {name: p.preprocess.audio_layout for name, p in PRESETS.items()} == {
        "report1_a": "chunks",
        "report1_b": "chunks",
        "report1_c": "chunks",
        "report1_c_concat": "chunks",
        "report2_logit_mlp": "flat",
        "report3_spectrogram_cnn": "spectrogram",
    }


def test_expected_totals() -> None:
    # the totals written out, so that a change to the arithmetic above shows in review
    assert EXPECTED == {
        "report1_a": 17_162,
        "report1_b": 207_362,
        "report1_c": 200_396,
        "report1_c_concat": 204_716,
        "report2_logit_mlp": 94_206,
        "report3_spectrogram_cnn": 964_746,
    }


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_parameter_count_and_output(name: str) -> None:
    shape = audio_shape(PRESETS[name].preprocess.audio_layout)
    model = build_model(PRESETS[name].model, shape)
    assert count_parameters(model) == EXPECTED[name]
    logits = model(torch.randn(4, 1, 28, 28), torch.randn(4, *shape))
    assert logits.shape == (4, 10)


def test_report1_encoders_are_72_wide() -> None:
    model = build_model(PRESETS["report1_c"].model, audio_shape("chunks"))
    assert model.image_encoder.out_dim == model.audio_encoder.out_dim == model.fusion.out_dim == 72
    assert sum(p.numel() for p in model.fusion.parameters()) == 0


def test_report1_a_widths() -> None:
    model = build_model(PRESETS["report1_a"].model, audio_shape("chunks"))
    assert (model.image_encoder.out_dim, model.audio_encoder.out_dim, model.fusion.out_dim) == (128, 32, 160)


def test_report1_lstm_dropout_between_layers_or_on_the_output() -> None:
    b = build_model(PRESETS["report1_b"].model, audio_shape("chunks")).audio_encoder
    c = build_model(PRESETS["report1_c"].model, audio_shape("chunks")).audio_encoder
    assert (b.rnn.dropout, b.dropout.p) == (0.0, 0.3)  # B: on the LSTM's output
    assert (c.rnn.dropout, c.dropout.p) == (0.3, 0.0)  # C: between its two layers only


def test_report2_branches_end_without_activation() -> None:
    torch.manual_seed(0)
    model = build_model(PRESETS["report2_logit_mlp"].model, audio_shape("flat")).eval()
    image = model.image_encoder(torch.randn(16, 1, 28, 28))
    audio = model.audio_encoder(torch.randn(16, *audio_shape("flat")))
    assert image.shape == audio.shape == (16, 10)
    assert (image < 0).any() and (audio < 0).any()  # a ReLU would leave none


def test_report3_weights_its_loss_by_class() -> None:
    assert PRESETS["report3_spectrogram_cnn"].train.class_weights
    assert not any(p.train.class_weights for name, p in PRESETS.items() if name != "report3_spectrogram_cnn")
