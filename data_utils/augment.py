"""Per-batch augmentations, vectorized on the training device (no per-sample Python)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class AugmentConfig:
    shift: int = 0  # max image translation, pixels
    rotate: float = 0.0  # max image rotation, degrees
    hflip: float = 0.0  # probability of a horizontal flip (digits are not mirror-symmetric: let the search decide)
    audio_noise: float = 0.0  # std of Gaussian noise added to the normalized audio
    time_shift: int = 0  # max audio shift, frames (edges repeated)
    modality_dropout: float = 0.0  # probability that a sample loses one modality (image or audio, at random)

    def __post_init__(self) -> None:
        for name in ("shift", "time_shift"):
            if not 0 <= getattr(self, name) <= 10:
                raise ValueError(f"{name} must be in [0, 10], got {getattr(self, name)}")
        if not 0 <= self.rotate <= 90:
            raise ValueError(f"rotate must be in [0, 90] degrees, got {self.rotate}")
        for name in ("hflip", "modality_dropout"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1], got {getattr(self, name)}")
        if self.audio_noise < 0:
            raise ValueError(f"audio_noise must be >= 0, got {self.audio_noise}")

    @property
    def active(self) -> bool:
        return any(getattr(self, f) for f in self.__dataclass_fields__)


def augment(image: Tensor, audio: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Augment a batch: image (B, 1, H, W), audio (B, T, F) normalized frames. Returns new tensors."""
    if cfg.shift or cfg.rotate or cfg.hflip:
        image = affine(image, cfg, gen)
    if cfg.time_shift:
        audio = time_shift(audio, cfg.time_shift, gen)
    if cfg.audio_noise:
        audio = audio + cfg.audio_noise * torch.randn(audio.shape, generator=gen, device=audio.device)
    if cfg.modality_dropout:
        image, audio = drop_modality(image, audio, cfg.modality_dropout, gen)
    return image, audio


def uniform(n: int, bound: float, gen: torch.Generator, device: torch.device) -> Tensor:
    return (torch.rand(n, generator=gen, device=device) * 2 - 1) * bound


def affine(image: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> Tensor:
    b, _, h, w = image.shape
    dev = image.device
    angle = uniform(b, math.radians(cfg.rotate), gen, dev)
    flip = torch.where(torch.rand(b, generator=gen, device=dev) < cfg.hflip, -1.0, 1.0)
    # affine_grid works in [-1, 1] coordinates: a shift of s pixels is 2s/size.
    tx = uniform(b, cfg.shift, gen, dev).round() * 2 / w
    ty = uniform(b, cfg.shift, gen, dev).round() * 2 / h
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta.to(image.dtype), list(image.shape), align_corners=False)
    # The border of a digit image is background, whatever the scaling: repeat it into the new area.
    return F.grid_sample(image, grid, padding_mode="border", align_corners=False)


def time_shift(audio: Tensor, max_shift: int, gen: torch.Generator) -> Tensor:
    b, t, f = audio.shape
    shift = torch.randint(-max_shift, max_shift + 1, (b, 1), generator=gen, device=audio.device)
    idx = (torch.arange(t, device=audio.device) - shift).clamp(0, t - 1)  # (B, T)
    return audio.gather(1, idx.unsqueeze(-1).expand(b, t, f))


def drop_modality(image: Tensor, audio: Tensor, p: float, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    b = image.shape[0]
    dropped = torch.rand(b, generator=gen, device=image.device) < p
    which = torch.rand(b, generator=gen, device=image.device) < 0.5
    # Zero is "no signal" for both: blank background at unit scaling, the mean for standardized audio.
    keep_image = ~(dropped & which)
    keep_audio = ~(dropped & ~which)
    return image * keep_image.view(b, 1, 1, 1), audio * keep_audio.view(b, 1, 1)
