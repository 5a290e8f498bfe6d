"""Building blocks shared by the encoders, the fusions and the head: MLP and conv stacks, config checks."""

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from torch import Tensor, nn

Pool = Literal["max", "avg"]


# Config checks. Each raises ValueError quoting the offending value, so a config loader can add the key path.


def check_dropout(name: str, p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {p!r}")


def check_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")


def check_widths(name: str, widths: tuple[int, ...]) -> None:
    if any(w < 1 for w in widths):
        raise ValueError(f"{name} must all be >= 1, got {widths!r}")


def check_choice(name: str, value: Any, choices: Any) -> None:
    """``choices`` is a Literal alias, so the allowed values are written once, in the type."""
    allowed = get_args(choices)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed!r}, got {value!r}")


def mlp(
    in_dim: int, widths: tuple[int, ...], dropout: float, batch_norm: bool, linear_out: bool = False
) -> tuple[nn.Sequential, int]:
    """Stack of ``Linear -> BatchNorm1d (if batch_norm) -> ReLU -> Dropout`` layers, one per width.

    Args:
        in_dim: input features.
        widths: output width of each layer; empty gives an identity (an empty Sequential).
        dropout: dropout after each activation (no layer is added when 0).
        batch_norm: BatchNorm1d between each Linear and its ReLU.
        linear_out: the last layer is a bare Linear (no BatchNorm, ReLU or dropout).

    Returns:
        The stack and its output width (``widths[-1]``, or ``in_dim`` when empty).

    Example:
        >>> net, out_dim = mlp(72, (60, 46), dropout=0.0, batch_norm=False)
        >>> out_dim
        46
    """
    layers: list[nn.Module] = []
    for i, width in enumerate(widths):
        layers.append(nn.Linear(in_dim, width))
        in_dim = width
        if linear_out and i == len(widths) - 1:
            break
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers), in_dim


@dataclass(frozen=True)
class ConvConfig:
    """Settings shared by the conv encoders (image ``cnn``, audio ``cnn1d`` and ``cnn2d``)."""

    channels: tuple[int, ...] = (16, 32)  # output channels, one conv block per entry
    kernels: tuple[int, ...] = (3, 3)  # odd kernel size per block, 'same' padding
    pool: Pool = "max"  # 2 (or 2x2) pooling after each block
    batch_norm: bool = True  # BatchNorm after each conv and each FC layer
    dropout: float = 0.0  # channel dropout (Dropout1d/2d) after each block
    # after the blocks, pool (adaptively, of the `pool` kind) to this size per dimension; None = as the blocks leave it
    pool_out: int | None = None
    fc: tuple[int, ...] = ()  # FC widths after flattening; empty = the flattened features
    fc_dropout: float = 0.0
    linear_out: bool = False  # the last FC layer is a bare Linear (no BN, ReLU, dropout): logits-like outputs

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError(f"channels must name at least one block, got {self.channels!r}")
        check_widths("channels", self.channels)
        if len(self.kernels) != len(self.channels):
            raise ValueError(
                f"kernels needs one entry per block: len(kernels) must equal len(channels), "
                f"got kernels={self.kernels!r}, channels={self.channels!r}"
            )
        if any(k < 1 or k % 2 == 0 for k in self.kernels):
            raise ValueError(f"kernels must be odd and positive ('same' padding), got {self.kernels!r}")
        check_choice("pool", self.pool, Pool)
        check_dropout("dropout", self.dropout)
        if self.pool_out is not None:
            check_positive("pool_out", self.pool_out)
        check_widths("fc", self.fc)
        check_dropout("fc_dropout", self.fc_dropout)
        if self.linear_out and not self.fc:
            raise ValueError("linear_out applies to the last FC layer: give fc widths, or set linear_out: false")


_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BATCH_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_CHANNEL_DROPOUT = {1: nn.Dropout1d, 2: nn.Dropout2d}
_POOL = {("max", 1): nn.MaxPool1d, ("max", 2): nn.MaxPool2d, ("avg", 1): nn.AvgPool1d, ("avg", 2): nn.AvgPool2d}
_ADAPTIVE_POOL = {
    ("max", 1): nn.AdaptiveMaxPool1d,
    ("max", 2): nn.AdaptiveMaxPool2d,
    ("avg", 1): nn.AdaptiveAvgPool1d,
    ("avg", 2): nn.AdaptiveAvgPool2d,
}


def conv_encoder(
    cfg: ConvConfig, in_channels: int, size: tuple[int, ...], global_pool: bool = False
) -> tuple[nn.Sequential, int]:
    """Conv blocks over a (B, C, L) or (B, C, H, W) input, then flatten (after a global average
    pool, or an adaptive pool to ``pool_out``), then FC.

    A block is ``conv -> BatchNorm (if) -> ReLU -> pool 2 -> channel dropout``. A dimension of size 1 is not
    pooled, so any input size works (the audio layouts include (507, 1) and (10, 50)).

    Returns:
        The network, (B, C, *size) -> (B, out_dim), and out_dim.
    """
    dims = len(size)
    layers: list[nn.Module] = []
    for out_channels, k in zip(cfg.channels, cfg.kernels):
        layers.append(_CONV[dims](in_channels, out_channels, k, padding=k // 2))
        if cfg.batch_norm:
            layers.append(_BATCH_NORM[dims](out_channels))
        layers.append(nn.ReLU())
        window = tuple(2 if s >= 2 else 1 for s in size)
        if any(w > 1 for w in window):
            layers.append(_POOL[cfg.pool, dims](window))
            size = tuple(s // w for s, w in zip(size, window))
        if cfg.dropout > 0:
            layers.append(_CHANNEL_DROPOUT[dims](cfg.dropout))
        in_channels = out_channels
    if global_pool:
        layers.append(_ADAPTIVE_POOL["avg", dims](1))
        size = (1,) * dims
    elif cfg.pool_out is not None:
        layers.append(_ADAPTIVE_POOL[cfg.pool, dims](cfg.pool_out))
        size = (cfg.pool_out,) * dims
    layers.append(nn.Flatten())
    fc, out_dim = mlp(in_channels * math.prod(size), cfg.fc, cfg.fc_dropout, cfg.batch_norm, cfg.linear_out)
    layers.append(fc)
    return nn.Sequential(*layers), out_dim


class MLPEncoder(nn.Module):
    """Flatten the input and apply an MLP; registered as ``mlp`` for both modalities (ablations, cheap trials)."""

    @dataclass(frozen=True)
    class Config:
        fc: tuple[int, ...] = (128,)  # FC widths; empty = the raw flattened input
        fc_dropout: float = 0.0
        batch_norm: bool = False

        def __post_init__(self) -> None:
            check_widths("fc", self.fc)
            check_dropout("fc_dropout", self.fc_dropout)

    def __init__(self, cfg: Config, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        fc, self.out_dim = mlp(math.prod(input_shape), cfg.fc, cfg.fc_dropout, cfg.batch_norm)
        self.net = nn.Sequential(nn.Flatten(), fc)

    def forward(self, x: Tensor) -> Tensor:  # (B, *input_shape) -> (B, out_dim)
        return self.net(x)
