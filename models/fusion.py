"""Fusions: per-modality features {"image": (B, Di), "audio": (B, Da)} -> (B, out_dim).

Registered in ``FUSIONS`` by their YAML name. A fusion receives only the modalities it lists in
``modalities``, so the classifier builds only those encoders (ablations carry no dead branch).
"""

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from models.layers import check_dropout, check_positive
from models.registry import Registry

FUSIONS = Registry("fusion")


class Fusion(nn.Module):
    """Interface of every fusion: ``__init__(cfg, in_dims, num_classes)``, ``out_dim``, ``forward(feats)``.

    ``outputs_logits`` marks decision-level fusions whose output is already the class logits, so the
    classifier adds no head.
    """

    modalities: ClassVar[tuple[str, ...]] = ("image", "audio")
    outputs_logits: ClassVar[bool] = False
    out_dim: int


@FUSIONS.register("concat")
class ConcatFusion(Fusion):
    """Concatenate the features: out_dim = Di + Da."""

    @dataclass(frozen=True)
    class Config:
        pass

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.out_dim = in_dims["image"] + in_dims["audio"]

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        return torch.cat([feats["image"], feats["audio"]], dim=1)  # (B, Di + Da)


def _project(in_dim: int, out_dim: int) -> nn.Module:
    return nn.Identity() if in_dim == out_dim else nn.Linear(in_dim, out_dim)


@FUSIONS.register("add")
class AddFusion(Fusion):
    """Sum of the features after projecting each to a common width; a modality already at that width is
    not projected, so equal widths add no parameters."""

    @dataclass(frozen=True)
    class Config:
        dim: int | None = None  # common width; None = the larger input width

        def __post_init__(self) -> None:
            if self.dim is not None:
                check_positive("dim", self.dim)

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.out_dim = cfg.dim if cfg.dim is not None else max(in_dims["image"], in_dims["audio"])
        self.image_proj = _project(in_dims["image"], self.out_dim)
        self.audio_proj = _project(in_dims["audio"], self.out_dim)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        return self.image_proj(feats["image"]) + self.audio_proj(feats["audio"])  # (B, dim)


@FUSIONS.register("gated")
class GatedFusion(Fusion):
    """Per-sample, per-feature gate between the projected modalities: ``g * image + (1 - g) * audio``.

    The gate is ``sigmoid(Linear([image; audio]))`` of width ``dim``: one weight per feature rather than
    one per modality, so a sample can take some features from each.
    """

    @dataclass(frozen=True)
    class Config:
        dim: int = 128

        def __post_init__(self) -> None:
            check_positive("dim", self.dim)

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.out_dim = cfg.dim
        self.image_proj = nn.Linear(in_dims["image"], cfg.dim)
        self.audio_proj = nn.Linear(in_dims["audio"], cfg.dim)
        self.gate = nn.Linear(2 * cfg.dim, cfg.dim)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        image = self.image_proj(feats["image"])  # (B, dim)
        audio = self.audio_proj(feats["audio"])  # (B, dim)
        g = torch.sigmoid(self.gate(torch.cat([image, audio], dim=1)))  # (B, dim)
        return g * image + (1 - g) * audio


@FUSIONS.register("attention")
class AttentionFusion(Fusion):
    """Self-attention over two tokens, one per modality (projection + learned modality embedding),
    with a residual connection, then the mean of the two tokens: out_dim = dim."""

    @dataclass(frozen=True)
    class Config:
        dim: int = 64  # token width
        heads: int = 4
        dropout: float = 0.0  # on the attention weights

        def __post_init__(self) -> None:
            check_positive("dim", self.dim)
            check_positive("heads", self.heads)
            if self.dim % self.heads:
                raise ValueError(f"dim must be divisible by heads, got dim={self.dim!r}, heads={self.heads!r}")
            check_dropout("dropout", self.dropout)

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.out_dim = cfg.dim
        self.image_proj = nn.Linear(in_dims["image"], cfg.dim)
        self.audio_proj = nn.Linear(in_dims["audio"], cfg.dim)
        # without these the two tokens are an unordered set and attention cannot tell image from audio
        self.modality_emb = nn.Parameter(0.02 * torch.randn(2, cfg.dim))
        self.attn = nn.MultiheadAttention(cfg.dim, cfg.heads, dropout=cfg.dropout, batch_first=True)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        tokens = torch.stack([self.image_proj(feats["image"]), self.audio_proj(feats["audio"])], dim=1)
        tokens = tokens + self.modality_emb  # (B, 2, dim)
        attended, _ = self.attn(tokens, tokens, tokens, need_weights=False)
        return (tokens + attended).mean(dim=1)  # (B, dim)


@FUSIONS.register("bilinear")
class BilinearFusion(Fusion):
    """Low-rank multimodal fusion (Liu et al. 2018, LMF).

    The full tensor fusion ``W . ([image; 1] outer [audio; 1])`` is factored into ``rank`` per-modality
    factors; the appended 1 keeps the unimodal terms alongside the bilinear ones.
    """

    @dataclass(frozen=True)
    class Config:
        rank: int = 4
        dim: int = 64  # output width

        def __post_init__(self) -> None:
            check_positive("rank", self.rank)
            check_positive("dim", self.dim)

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.out_dim = cfg.dim
        self.image_factor = nn.Parameter(torch.empty(cfg.rank, in_dims["image"] + 1, cfg.dim))
        self.audio_factor = nn.Parameter(torch.empty(cfg.rank, in_dims["audio"] + 1, cfg.dim))
        self.rank_weights = nn.Parameter(torch.empty(cfg.rank))
        self.bias = nn.Parameter(torch.zeros(cfg.dim))
        nn.init.xavier_normal_(self.image_factor)
        nn.init.xavier_normal_(self.audio_factor)
        nn.init.normal_(self.rank_weights, std=cfg.rank**-0.5)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        image, audio = feats["image"], feats["audio"]
        image = torch.cat([image, image.new_ones(image.size(0), 1)], dim=1)  # (B, Di + 1)
        audio = torch.cat([audio, audio.new_ones(audio.size(0), 1)], dim=1)  # (B, Da + 1)
        fused = (image @ self.image_factor) * (audio @ self.audio_factor)  # (rank, B, dim)
        return torch.einsum("r,rbd->bd", self.rank_weights, fused) + self.bias  # (B, dim)


@FUSIONS.register("late")
class LateFusion(Fusion):
    """Decision-level fusion: a linear classifier per modality, logits mixed by learned softmax weights."""

    outputs_logits = True

    @dataclass(frozen=True)
    class Config:
        pass

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.out_dim = num_classes
        self.image_head = nn.Linear(in_dims["image"], num_classes)
        self.audio_head = nn.Linear(in_dims["audio"], num_classes)
        self.mix = nn.Parameter(torch.zeros(2))  # equal weights at init

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        w = torch.softmax(self.mix, dim=0)
        return w[0] * self.image_head(feats["image"]) + w[1] * self.audio_head(feats["audio"])  # (B, C)


@FUSIONS.register("hybrid")
class HybridFusion(Fusion):
    """Feature- and decision-level fusion together (report 4): a head on the concatenated features and a
    linear classifier per modality, their three logits mixed by learned softmax weights.

    The per-modality heads keep each encoder predictive on its own, which the fused head alone does not ask of it.
    """

    outputs_logits = True

    @dataclass(frozen=True)
    class Config:
        dim: int = 128  # hidden width of the fused head: [image; audio] -> dim -> ReLU -> classes

        def __post_init__(self) -> None:
            check_positive("dim", self.dim)

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.out_dim = num_classes
        self.fused_head = nn.Sequential(
            nn.Linear(in_dims["image"] + in_dims["audio"], cfg.dim), nn.ReLU(), nn.Linear(cfg.dim, num_classes)
        )
        self.image_head = nn.Linear(in_dims["image"], num_classes)
        self.audio_head = nn.Linear(in_dims["audio"], num_classes)
        self.mix = nn.Parameter(torch.zeros(3))  # fused, image, audio: equal weights at init

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        image, audio = feats["image"], feats["audio"]
        w = torch.softmax(self.mix, dim=0)
        fused = self.fused_head(torch.cat([image, audio], dim=1))  # (B, C)
        return w[0] * fused + w[1] * self.image_head(image) + w[2] * self.audio_head(audio)  # (B, C)


class SingleModality(Fusion):
    """Ablation: pass one modality's features through; the other encoder is not built."""

    @dataclass(frozen=True)
    class Config:
        pass

    def __init__(self, cfg: Config, in_dims: dict[str, int], num_classes: int) -> None:
        super().__init__()
        self.modality = self.modalities[0]  # an instance attribute, which TorchScript can read
        self.out_dim = in_dims[self.modality]

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        return feats[self.modality]


@FUSIONS.register("image_only")
class ImageOnly(SingleModality):
    """Image features only."""

    modalities = ("image",)


@FUSIONS.register("audio_only")
class AudioOnly(SingleModality):
    """Audio features only."""

    modalities = ("audio",)
