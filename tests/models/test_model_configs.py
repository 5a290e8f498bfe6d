"""Configs: every bad value is a ValueError quoting it; unknown names list the valid ones; configs are
plain, picklable data whose field types a YAML loader can read."""

import json
import pickle
import types
import typing
from dataclasses import fields, is_dataclass

import pytest

from models import (
    AUDIO_ENCODERS,
    FUSIONS,
    IMAGE_ENCODERS,
    Component,
    HeadConfig,
    ModelConfig,
)
from models.audio_encoders import AudioCNN1d, AudioCNN2d, GRUEncoder, LSTMEncoder
from models.classifier import to_dict
from models.fusion import (
    AddFusion,
    AttentionFusion,
    BilinearFusion,
    ConcatFusion,
    GatedFusion,
)
from models.image_encoders import ImageCNN
from models.layers import MLPEncoder

REGISTRIES = {"image": IMAGE_ENCODERS, "audio": AUDIO_ENCODERS, "fusion": FUSIONS}
REGISTERED = [(kind, name) for kind, registry in REGISTRIES.items() for name in sorted(registry)]

# (Config class, bad keyword arguments, text the message must quote)
BAD_VALUES = [
    *[
        (conv.Config, kwargs, quoted)
        for conv in (ImageCNN, AudioCNN1d, AudioCNN2d)
        for kwargs, quoted in [
            ({"dropout": 1.5}, "1.5"),
            ({"dropout": -0.1}, "-0.1"),
            ({"fc_dropout": 1.0}, "1.0"),
            ({"channels": (16, 32), "kernels": (3, 4)}, "(3, 4)"),
            ({"channels": (16,), "kernels": (3, 3)}, "(3, 3)"),
            ({"channels": (), "kernels": ()}, "()"),
            ({"channels": (16, 0)}, "(16, 0)"),
            ({"pool": "mean"}, "'mean'"),
            ({"fc": (10, -1)}, "(10, -1)"),
            ({"pool_out": 0}, "0"),
            ({"linear_out": True}, "linear_out"),  # no FC layer to leave bare
        ]
    ],
    *[
        (rnn.Config, kwargs, quoted)
        for rnn in (LSTMEncoder, GRUEncoder)
        for kwargs, quoted in [
            ({"hidden": 0}, "0"),
            ({"num_layers": 4}, "4"),
            ({"num_layers": 0}, "0"),
            ({"dropout": 1.0}, "1.0"),
            ({"fc": (0,)}, "(0,)"),
            ({"fc_dropout": 2.0}, "2.0"),
            ({"layer_dropout": 1.0, "num_layers": 2}, "1.0"),
            ({"layer_dropout": 0.3}, "num_layers >= 2, got 1"),  # nothing to drop between
        ]
    ],
    (MLPEncoder.Config, {"fc": (64, 0)}, "(64, 0)"),
    (MLPEncoder.Config, {"fc_dropout": -1.0}, "-1.0"),
    (AddFusion.Config, {"dim": 0}, "0"),
    (GatedFusion.Config, {"dim": -8}, "-8"),
    (AttentionFusion.Config, {"dim": 10, "heads": 4}, "dim=10"),
    (AttentionFusion.Config, {"heads": 0}, "0"),
    (AttentionFusion.Config, {"dropout": 1.5}, "1.5"),
    (BilinearFusion.Config, {"rank": 0}, "0"),
    (BilinearFusion.Config, {"dim": -1}, "-1"),
    (HeadConfig, {"hidden": (60, 0)}, "(60, 0)"),
    (HeadConfig, {"dropout": 1.5}, "1.5"),
]


def _case_id(config: type, kwargs: dict) -> str:
    return f"{config.__qualname__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


@pytest.mark.parametrize(("config", "kwargs", "quoted"), BAD_VALUES, ids=[_case_id(c, kw) for c, kw, _ in BAD_VALUES])
def test_config_rejects_bad_value(config: type, kwargs: dict, quoted: str) -> None:
    with pytest.raises(ValueError) as error:
        config(**kwargs)
    assert quoted in str(error.value)


def _loadable(tp: typing.Any) -> bool:
    """The field types the YAML loader understands."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (int, float, bool, str):
        return True
    if origin is typing.Literal:
        return all(isinstance(a, (str, int)) for a in args)
    if origin is tuple:
        return len(args) == 2 and args[0] in (int, str) and args[1] is Ellipsis
    if origin in (typing.Union, types.UnionType):
        return type(None) in args and all(_loadable(a) for a in args if a is not type(None))
    return False


@pytest.mark.parametrize(("kind", "name"), REGISTERED)
def test_config_is_a_frozen_dataclass_of_loadable_fields(kind: str, name: str) -> None:
    config = REGISTRIES[kind].get_class(name).Config
    assert is_dataclass(config) and config.__dataclass_params__.frozen
    hints = typing.get_type_hints(config)
    for f in fields(config):
        assert _loadable(hints[f.name]), f"{kind} {name!r}: field {f.name} has type {hints[f.name]}"
    config()  # the defaults are valid


@pytest.mark.parametrize("registry", REGISTRIES.values(), ids=REGISTRIES.keys())
def test_unknown_name_lists_valid_names(registry) -> None:
    with pytest.raises(KeyError) as error:
        registry.get_class("resnet")
    assert "'resnet'" in str(error.value)
    assert all(name in str(error.value) for name in registry)


SMALL = ModelConfig(
    image=Component("mlp", MLPEncoder.Config(fc=(16,))),
    audio=Component("cnn1d", AudioCNN1d.Config(channels=(4,), kernels=(3,))),
    fusion=Component("concat", ConcatFusion.Config()),
)


def test_model_config_checks_component_names_and_params() -> None:
    base = SMALL
    with pytest.raises(KeyError, match="bilinear"):  # the valid fusions are listed
        ModelConfig(image=base.image, audio=base.audio, fusion=Component("tensor", ConcatFusion.Config()))
    with pytest.raises(TypeError, match="GatedFusion.Config"):
        ModelConfig(image=base.image, audio=base.audio, fusion=Component("gated", ConcatFusion.Config()))
    with pytest.raises(ValueError, match="got 1"):
        ModelConfig(image=base.image, audio=base.audio, fusion=base.fusion, num_classes=1)


def test_model_config_round_trips() -> None:
    cfg = SMALL
    assert pickle.loads(pickle.dumps(cfg)) == cfg  # crosses process boundaries (Ray)
    plain = to_dict(cfg)
    assert json.loads(json.dumps(plain)) == plain  # tuples came out as lists
    assert plain["image"]["name"] == cfg.image.name
    assert plain["audio"]["channels"] == list(cfg.audio.params.channels)
