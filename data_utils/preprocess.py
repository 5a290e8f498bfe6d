"""Raw arrays -> model inputs: image scaling, audio standardization and the audio layouts the search tunes.

Statistics come from the training split only and live in the module's buffers, so they are saved (and
exported) with the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from common.constants import AUDIO_COEFFS, AUDIO_FEATURES, AUDIO_FRAMES, IMAGE_SIDE

CHUNKS, CHUNK_SIZE = 10, 50  # one report's 10x50 layout: drops the last 7 of 507 values
SPEC_N_FFT, SPEC_HOP = 64, 16  # ~33 frequency bins x 32 steps over the 507-long sequence

ImageScaling = Literal["unit", "standardize"]
AudioLayout = Literal["frames", "chunks", "flat", "spectrogram"]


@dataclass(frozen=True)
class PreprocessConfig:
    image_scaling: ImageScaling = "unit"  # unit: /255; standardize: (x - mean) / std over training pixels
    audio_layout: AudioLayout = "frames"  # how the 507 features become a (T, F) sequence


def audio_shape(layout: str) -> tuple[int, int]:
    """(T, F) of the audio the encoders see for ``layout``."""
    if layout == "frames":
        return (AUDIO_FRAMES, AUDIO_COEFFS)
    if layout == "chunks":
        return (CHUNKS, CHUNK_SIZE)
    if layout == "flat":
        return (AUDIO_FEATURES, 1)
    if layout == "spectrogram":
        return (1 + AUDIO_FEATURES // SPEC_HOP, SPEC_N_FFT // 2 + 1)
    raise ValueError(f"unknown audio layout {layout!r}")


class Preprocessor(nn.Module):
    """uint8 images (B, 784) and audio features (B, 507) -> image (B, 1, 28, 28) and audio (B, T, F).

    ``normalize`` and ``layout`` are separate so the trainer can normalize the whole dataset once and
    apply augmentations to the (B, 39, 13) frames before laying each batch out.
    """

    def __init__(self, cfg: PreprocessConfig) -> None:
        super().__init__()
        self.image_scaling = cfg.image_scaling
        self.audio_layout = cfg.audio_layout
        # TorchScript cannot read module-level ints: the sizes as attributes, so that exports script it.
        self.image_side, self.audio_frames, self.audio_coeffs = IMAGE_SIDE, AUDIO_FRAMES, AUDIO_COEFFS
        self.audio_features, self.chunks, self.chunk_size = AUDIO_FEATURES, CHUNKS, CHUNK_SIZE
        self.n_fft, self.hop = SPEC_N_FFT, SPEC_HOP
        self.register_buffer("image_mean", torch.zeros(()))
        self.register_buffer("image_std", torch.full((), 255.0))
        self.register_buffer("audio_mean", torch.zeros(AUDIO_FEATURES))
        self.register_buffer("audio_std", torch.ones(AUDIO_FEATURES))
        self.register_buffer("window", torch.hann_window(SPEC_N_FFT))

    @classmethod
    def fit(cls, cfg: PreprocessConfig, images: Tensor, audio: Tensor) -> Preprocessor:
        """A preprocessor whose statistics are those of the given (training) arrays."""
        pre = cls(cfg)
        images = images.to(torch.float64)
        audio = audio.to(torch.float64)
        if cfg.image_scaling == "standardize":
            pre.image_mean.fill_(images.mean().item())
            pre.image_std.fill_(images.std().item())
        pre.audio_mean.copy_(audio.mean(0))
        # A constant feature (std 0) would divide by zero: leave it unscaled.
        pre.audio_std.copy_(torch.where(audio.std(0) > 1e-8, audio.std(0), torch.ones(())))
        return pre.to(images.device)

    def normalize(self, images: Tensor, audio: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 784) uint8, (B, 507) -> (B, 1, 28, 28) float, (B, 39, 13) float."""
        image = (images.to(torch.float32) - self.image_mean) / self.image_std
        audio = (audio.to(torch.float32) - self.audio_mean) / self.audio_std
        return image.view(-1, 1, self.image_side, self.image_side), audio.view(-1, self.audio_frames, self.audio_coeffs)

    def layout(self, audio: Tensor) -> Tensor:
        """(B, 39, 13) normalized frames -> (B, T, F) in the configured layout."""
        flat = audio.reshape(audio.shape[0], self.audio_features)
        if self.audio_layout == "chunks":
            return flat[:, : self.chunks * self.chunk_size].reshape(-1, self.chunks, self.chunk_size)
        if self.audio_layout == "flat":
            return flat.unsqueeze(-1)
        if self.audio_layout == "spectrogram":
            return torch.log1p(self.stft_magnitude(flat)).transpose(1, 2)  # (B, F, T) -> (B, T, F)
        return audio

    def stft_magnitude(self, flat: Tensor) -> Tensor:
        """(B, 507) -> |STFT| (B, F, T)."""
        return torch.stft(flat, self.n_fft, hop_length=self.hop, window=self.window, return_complex=True).abs()

    def forward(self, images: Tensor, audio: Tensor) -> tuple[Tensor, Tensor]:
        image, frames = self.normalize(images, audio)
        return image, self.layout(frames)
