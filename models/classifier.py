"""The multimodal classifier: image and audio encoders -> fusion -> head, built from one ModelConfig."""

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from torch import Tensor, nn

from models.audio_encoders import AUDIO_ENCODERS
from models.fusion import FUSIONS
from models.image_encoders import IMAGE_ENCODERS
from models.layers import check_dropout, check_widths, mlp
from models.registry import Registry


@dataclass(frozen=True)
class HeadConfig:
    """The classifier head: an MLP, then a Linear to the class logits."""

    hidden: tuple[int, ...] = ()  # MLP widths; empty = a single Linear
    dropout: float = 0.0
    batch_norm: bool = False

    def __post_init__(self) -> None:
        check_widths("hidden", self.hidden)
        check_dropout("dropout", self.dropout)


@dataclass(frozen=True)
class Component:
    """A registered component, by its registry name, with its settings.

    Example:
        >>> from models.audio_encoders import LSTMEncoder
        >>> to_dict(Component("lstm", LSTMEncoder.Config(hidden=36, num_layers=2, skip=True)))["hidden"]
        36
    """

    name: str  # registry name
    params: Any  # instance of the registered class's Config


def to_dict(config: Any) -> Any:
    """The one config serializer (model, trial and training configs alike): a JSON/YAML-friendly nested dict,
    a ``Component`` as ``{"name": name, **params}``, tuples as lists; ``search.space.typed_config.from_dict``
    reads it back."""
    if isinstance(config, Component):
        return {"name": config.name, **to_dict(config.params)}
    if is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in fields(config)}
    if isinstance(config, (list, tuple)):
        return [to_dict(v) for v in config]
    return config


@dataclass(frozen=True)
class ModelConfig:
    """Everything that defines a model. Each component's ``registry`` metadata names where it is looked up.

    Raises:
        KeyError: a component name is not registered (the message lists the valid names).
        TypeError: a component's params are not its registered class's Config.
        ValueError: num_classes < 2.
    """

    image: Component = field(metadata={"registry": IMAGE_ENCODERS})
    audio: Component = field(metadata={"registry": AUDIO_ENCODERS})
    fusion: Component = field(metadata={"registry": FUSIONS})
    head: HeadConfig = HeadConfig()
    num_classes: int = 10

    def __post_init__(self) -> None:
        for f in fields(self):
            registry: Registry | None = f.metadata.get("registry")
            if registry is None:
                continue
            component = getattr(self, f.name)
            cls = registry.get_class(component.name)
            if not isinstance(component.params, cls.Config):
                raise TypeError(
                    f"{f.name} {component.name!r} needs params of type {cls.__name__}.Config, "
                    f"got {type(component.params).__qualname__}"
                )
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes!r}")


class MultimodalClassifier(nn.Module):
    """Encoders -> fusion -> head. Built by ``build_model``.

    Only the encoders the fusion uses are built; the other input is ignored. A decision-level fusion
    (``outputs_logits``) already gives the logits, so it gets no head.
    """

    def __init__(self, cfg: ModelConfig, audio_shape: tuple[int, int], image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        self.cfg = cfg
        fusion_cls = FUSIONS.get_class(cfg.fusion.name)
        uses = fusion_cls.modalities
        self.image_encoder = _encoder(IMAGE_ENCODERS, cfg.image, image_shape) if "image" in uses else None
        self.audio_encoder = _encoder(AUDIO_ENCODERS, cfg.audio, audio_shape) if "audio" in uses else None
        in_dims = {name: getattr(self, f"{name}_encoder").out_dim for name in uses}
        self.fusion = fusion_cls(cfg.fusion.params, in_dims, cfg.num_classes)
        if fusion_cls.outputs_logits:
            self.head = nn.Identity()
        else:
            hidden, width = mlp(self.fusion.out_dim, cfg.head.hidden, cfg.head.dropout, cfg.head.batch_norm)
            self.head = nn.Sequential(hidden, nn.Linear(width, cfg.num_classes))

    def forward(self, image: Tensor, audio: Tensor) -> Tensor:  # (B, C, H, W), (B, T, F) -> (B, num_classes)
        feats: dict[str, Tensor] = {}
        if self.image_encoder is not None:
            feats["image"] = self.image_encoder(image)  # (B, Di)
        if self.audio_encoder is not None:
            feats["audio"] = self.audio_encoder(audio)  # (B, Da)
        return self.head(self.fusion(feats))


def _encoder(registry: Registry, component: Component, input_shape: tuple[int, ...]) -> nn.Module:
    return registry.get_class(component.name)(component.params, tuple(input_shape))


def build_model(
    cfg: ModelConfig, audio_shape: tuple[int, int], image_shape: tuple[int, int, int] = (1, 28, 28)
) -> MultimodalClassifier:
    """Build the classifier that ``cfg`` describes.

    Args:
        cfg: the model's components and head.
        audio_shape: (T, F) of one audio sample as preprocessing lays it out, e.g. (10, 50) for ``chunks``.
        image_shape: (C, H, W) of one image.

    Returns:
        A module mapping image (B, C, H, W) and audio (B, T, F) to logits (B, num_classes).

    Raises:
        ValueError: a shape has the wrong length or a non-positive size.

    Example:
        >>> import torch
        >>> cfg = ModelConfig(Component("mlp", MLPEncoder.Config()), Component("lstm", LSTMEncoder.Config()),
        ...                   Component("add", AddFusion.Config()))
        >>> model = build_model(cfg, audio_shape=(10, 50))
        >>> model(torch.zeros(4, 1, 28, 28), torch.zeros(4, 10, 50)).shape
        torch.Size([4, 10])
    """
    for name, shape, rank in (("audio_shape", audio_shape, 2), ("image_shape", image_shape, 3)):
        if len(shape) != rank or any(s < 1 for s in shape):
            raise ValueError(f"{name} must be {rank} positive sizes, got {tuple(shape)!r}")
    return MultimodalClassifier(cfg, audio_shape, image_shape)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
