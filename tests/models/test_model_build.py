"""Every image encoder x audio encoder x fusion x audio layout builds, runs forward and backward, and scripts.

Parametrized over the registries themselves (as timm does): a newly registered component is tested the
day it is added, with the small config below or, failing that, its Config defaults.
"""

import math

import pytest
import torch
from torch import nn

from models import (
    AUDIO_ENCODERS,
    FUSIONS,
    IMAGE_ENCODERS,
    Component,
    HeadConfig,
    ModelConfig,
    build_model,
)
from models.audio_encoders import AudioCNN1d, AudioCNN2d, GRUEncoder, LSTMEncoder
from models.fusion import AttentionFusion, BilinearFusion, GatedFusion, HybridFusion
from models.image_encoders import ImageCNN
from models.layers import MLPEncoder

# (T, F) of each audio layout that preprocessing produces; spectrogram is one example size
AUDIO_LAYOUTS = {"frames": (39, 13), "chunks": (10, 50), "flat": (507, 1), "spectrogram": (33, 33)}

# Small widths keep the cross product fast; widths differ between modalities (16 vs 12) so that
# the fusions that project have something to project.
SMALL_IMAGE = {
    "cnn": ImageCNN.Config(channels=(4, 8), kernels=(3, 5), batch_norm=True, dropout=0.1, fc=(16,), fc_dropout=0.1),
    "mlp": MLPEncoder.Config(fc=(16,), batch_norm=True),
}
SMALL_AUDIO = {
    "lstm": LSTMEncoder.Config(hidden=6, num_layers=2, bidirectional=True, skip=True, dropout=0.1, fc=(12,)),
    "gru": GRUEncoder.Config(hidden=6, num_layers=2, dropout=0.1),
    "cnn1d": AudioCNN1d.Config(channels=(4, 8), kernels=(3, 5), dropout=0.1, fc=(12,)),
    "cnn2d": AudioCNN2d.Config(channels=(4,), kernels=(3,), pool="avg", fc=(12,)),
    "mlp": MLPEncoder.Config(fc=(12,)),
}
SMALL_FUSION = {
    "gated": GatedFusion.Config(dim=8),
    "attention": AttentionFusion.Config(dim=8, heads=2, dropout=0.1),
    "bilinear": BilinearFusion.Config(rank=2, dim=8),
    "hybrid": HybridFusion.Config(dim=8),
}


def small_config(fusion: str, image: str = "cnn", audio: str = "lstm") -> ModelConfig:
    def component(registry, small, name):
        return Component(name, small.get(name) or registry.get_class(name).Config())

    return ModelConfig(
        image=component(IMAGE_ENCODERS, SMALL_IMAGE, image),
        audio=component(AUDIO_ENCODERS, SMALL_AUDIO, audio),
        fusion=component(FUSIONS, SMALL_FUSION, fusion),
        head=HeadConfig(hidden=(8,), dropout=0.1, batch_norm=True),
    )


def inputs(audio_shape: tuple[int, int], batch: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(batch, 1, 28, 28), torch.randn(batch, *audio_shape)


def grad_norm(module: nn.Module) -> float:
    return sum(p.grad.abs().sum().item() for p in module.parameters())


@pytest.mark.parametrize("layout", sorted(AUDIO_LAYOUTS))
@pytest.mark.parametrize("fusion", sorted(FUSIONS))
@pytest.mark.parametrize("audio", sorted(AUDIO_ENCODERS))
@pytest.mark.parametrize("image", sorted(IMAGE_ENCODERS))
def test_forward_backward(image: str, audio: str, fusion: str, layout: str) -> None:
    torch.manual_seed(0)
    model = build_model(small_config(fusion, image, audio), AUDIO_LAYOUTS[layout])
    logits = model(*inputs(AUDIO_LAYOUTS[layout]))
    assert logits.shape == (4, 10)
    assert torch.isfinite(logits).all()

    nn.functional.cross_entropy(logits, torch.arange(4)).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"
    uses = FUSIONS.get_class(fusion).modalities
    for modality in ("image", "audio"):
        encoder = getattr(model, f"{modality}_encoder")
        if modality in uses:
            assert grad_norm(encoder) > 0, f"no gradient reaches the {modality} encoder"
        else:
            assert encoder is None, f"{fusion} does not use {modality}, but its encoder was built"
    assert grad_norm(model) > 0


@pytest.mark.parametrize("layout", sorted(AUDIO_LAYOUTS))
@pytest.mark.parametrize("name", sorted(AUDIO_ENCODERS))
def test_audio_encoder_out_dim(name: str, layout: str) -> None:
    cls = AUDIO_ENCODERS.get_class(name)
    encoder = cls(SMALL_AUDIO.get(name) or cls.Config(), AUDIO_LAYOUTS[layout])
    assert encoder(torch.randn(2, *AUDIO_LAYOUTS[layout])).shape == (2, encoder.out_dim)


@pytest.mark.parametrize("name", sorted(IMAGE_ENCODERS))
def test_image_encoder_out_dim(name: str) -> None:
    cls = IMAGE_ENCODERS.get_class(name)
    encoder = cls(SMALL_IMAGE.get(name) or cls.Config(), (1, 28, 28))
    assert encoder(torch.randn(2, 1, 28, 28)).shape == (2, encoder.out_dim)


@pytest.mark.parametrize("name", sorted(FUSIONS))
def test_fusion_out_dim(name: str) -> None:
    cls = FUSIONS.get_class(name)
    in_dims = {m: d for m, d in {"image": 16, "audio": 12}.items() if m in cls.modalities}
    fusion = cls(SMALL_FUSION.get(name) or cls.Config(), in_dims, 10)
    out = fusion({m: torch.randn(2, d) for m, d in in_dims.items()})
    assert out.shape == (2, fusion.out_dim)
    if cls.outputs_logits:
        assert fusion.out_dim == 10


@pytest.mark.parametrize(
    ("skip", "bidirectional", "num_layers", "expected"),
    [(False, False, 3, 6), (True, False, 3, 18), (False, True, 2, 12), (True, True, 2, 24)],
)
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_rnn_out_dim(cell: str, skip: bool, bidirectional: bool, num_layers: int, expected: int) -> None:
    cls = AUDIO_ENCODERS.get_class(cell)
    encoder = cls(cls.Config(hidden=6, num_layers=num_layers, bidirectional=bidirectional, skip=skip), (10, 50))
    assert encoder.out_dim == expected
    assert encoder(torch.randn(3, 10, 50)).shape == (3, expected)


def test_rnn_skip_keeps_every_layer_final_state() -> None:
    encoder = LSTMEncoder(LSTMEncoder.Config(hidden=5, num_layers=2, bidirectional=True, skip=True), (7, 3)).eval()
    x = torch.randn(2, 7, 3)
    _, (h, _) = encoder.rnn(x)  # (layers * directions, B, H)
    expected = torch.cat([h[i] for i in range(4)], dim=1)  # layer 0 fwd, layer 0 bwd, layer 1 fwd, layer 1 bwd
    torch.testing.assert_close(encoder(x), expected)


@pytest.mark.parametrize(("audio_shape", "flat_dim"), [((507, 1), 4 * 253), ((1, 1), 4), ((33, 33), 4 * 16 * 16)])
def test_cnn2d_never_pools_a_dimension_below_one(audio_shape: tuple[int, int], flat_dim: int) -> None:
    encoder = AudioCNN2d(AudioCNN2d.Config(channels=(4,), kernels=(3,)), audio_shape)
    assert encoder.out_dim == flat_dim
    assert encoder(torch.randn(2, *audio_shape)).shape == (2, flat_dim)


def test_cnn1d_skips_pooling_below_length_one() -> None:
    cfg = AudioCNN1d.Config(channels=(2, 2, 2), kernels=(3, 3, 3), global_pool=False)
    encoder = AudioCNN1d(cfg, (3, 13))  # length 3 -> 1 -> 1 -> 1
    assert encoder.out_dim == 2
    assert encoder(torch.randn(2, 3, 13)).shape == (2, 2)


def test_late_fusion_skips_the_head() -> None:
    model = build_model(small_config("late"), AUDIO_LAYOUTS["chunks"])
    assert isinstance(model.head, nn.Identity)
    n_fusion = sum(p.numel() for p in model.fusion.parameters())
    assert n_fusion == (16 * 10 + 10) + (12 * 10 + 10) + 2  # two linear heads to 10 classes, 2 mixing weights


def test_hybrid_fusion_mixes_a_fused_head_and_one_per_modality() -> None:
    model = build_model(small_config("hybrid"), AUDIO_LAYOUTS["chunks"]).eval()
    assert isinstance(model.head, nn.Identity)
    fusion = model.fusion
    n_fusion = sum(p.numel() for p in fusion.parameters())
    # fused head (16 + 12) -> 8 -> 10, a linear head per modality, 3 mixing weights
    assert n_fusion == (28 * 8 + 8) + (8 * 10 + 10) + (16 * 10 + 10) + (12 * 10 + 10) + 3
    feats = {"image": torch.randn(3, 16), "audio": torch.randn(3, 12)}
    heads = [
        fusion.fused_head(torch.cat([feats["image"], feats["audio"]], 1)),
        fusion.image_head(feats["image"]),
        fusion.audio_head(feats["audio"]),
    ]
    with torch.no_grad():
        torch.testing.assert_close(fusion(feats), sum(heads) / 3)  # equal weights at init
        fusion.mix.copy_(torch.tensor([0.0, 50.0, 0.0]))  # the learned weights decide: all on the image head
        torch.testing.assert_close(fusion(feats), heads[1])


def test_add_fusion_with_equal_widths_has_no_parameters() -> None:
    add = FUSIONS.get_class("add")
    assert sum(p.numel() for p in add(add.Config(), {"image": 72, "audio": 72}, 10).parameters()) == 0
    assert sum(p.numel() for p in add(add.Config(dim=72), {"image": 72, "audio": 72}, 10).parameters()) == 0
    # only the narrower modality is projected up to the wider one
    assert sum(p.numel() for p in add(add.Config(), {"image": 72, "audio": 36}, 10).parameters()) == 36 * 72 + 72


def test_build_model_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(39, 13, 1\)"):
        build_model(small_config("concat"), (39, 13, 1))
    with pytest.raises(ValueError, match=r"\(0, 13\)"):
        build_model(small_config("concat"), (0, 13))


# TorchScript: every fusion scripts (the `torch.jit.script` API is deprecated in torch 2.13 but works).
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("fusion", sorted(FUSIONS))
@pytest.mark.parametrize("audio", sorted(AUDIO_ENCODERS))
def test_torchscript_matches_eager(audio: str, fusion: str) -> None:
    torch.manual_seed(0)
    model = build_model(small_config(fusion, "cnn", audio), AUDIO_LAYOUTS["frames"]).eval()
    scripted = torch.jit.script(model)
    x = inputs(AUDIO_LAYOUTS["frames"])
    torch.testing.assert_close(scripted(*x), model(*x))
    assert math.isfinite(scripted(*x).sum().item())


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_conv_pool_out_fixes_the_flattened_width(pool: str) -> None:
    enc = ImageCNN(ImageCNN.Config(channels=(4, 8), kernels=(3, 3), pool=pool, pool_out=2), (1, 28, 28))
    assert enc.out_dim == 8 * 2 * 2
    assert enc(torch.randn(3, 1, 28, 28)).shape == (3, 32)


def test_linear_out_leaves_the_last_fc_layer_bare() -> None:
    cfg = AudioCNN1d.Config(channels=(4,), kernels=(3,), batch_norm=True, fc=(16, 10), fc_dropout=0.5, linear_out=True)
    enc = AudioCNN1d(cfg, (39, 13))
    fc = enc.net[-1]
    assert isinstance(fc[-1], nn.Linear) and fc[-1].out_features == 10
    assert [type(m) for m in fc[:-1]] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]  # the others as before
