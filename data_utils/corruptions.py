"""Test-time corruptions of raw inputs: how a model copes when a modality is missing or noisy.

Every corruption takes raw tensors — uint8 pixels 0..255 and MFCC features, any shape with samples first
(e.g. (N, 784) and (N, 507)) — and a ``torch.Generator`` on their device, and returns new tensors of the
same shapes, dtypes and device. Adding one is a function and a line in ``CORRUPTIONS``.

They work on raw inputs, before any preprocessing, so they mean the same for every model: an exported
model (``search.evaluate``) and the trainer's validation split (``val_robust_f1``) see the same
corruption. The audio of both data layouts is standardized MFCC (mean 0, std about 1 over the whole
array; per feature, the std ranges from about 0.1 to 1.6 in the Kaggle set), so standard normal noise
is "audio of the right scale that carries no digit".
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Corruption = Callable[[Tensor, Tensor, torch.Generator], tuple[Tensor, Tensor]]

GAUSSIAN_IMAGE_STD = 64.0  # pixel levels of 0..255: strokes stay readable to a person
GAUSSIAN_AUDIO_STD = 0.5  # times each feature's std: a signal-to-noise ratio of 6 dB


def normal(like: Tensor, gen: torch.Generator) -> Tensor:
    return torch.randn(like.shape, generator=gen, device=like.device, dtype=torch.float32)


def clean(images: Tensor, audio: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """The inputs as they are."""
    return images, audio


def audio_noise(images: Tensor, audio: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Audio missing: replaced by standard normal noise of its shape."""
    return images, normal(audio, gen).to(audio.dtype)


def image_blank(images: Tensor, audio: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Image missing: every pixel 0 (black, the background of a digit)."""
    return torch.zeros_like(images), audio


def gaussian(images: Tensor, audio: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Both noisy: pixels plus N(0, 64²), rounded and clipped to 0..255; audio plus 0.5 × each feature's
    std (over the samples given: pass a whole split, not one sample) times N(0, 1)."""
    pixels = images.to(torch.float32) + GAUSSIAN_IMAGE_STD * normal(images, gen)
    noisy_images = pixels.round().clamp(0, 255).to(images.dtype)
    # Per feature: MFCC coefficients differ tenfold in scale, and one global std would drown the small ones.
    scale = audio.to(torch.float32).std(0, correction=0, keepdim=True)
    noisy_audio = (audio.to(torch.float32) + GAUSSIAN_AUDIO_STD * scale * normal(audio, gen)).to(audio.dtype)
    return noisy_images, noisy_audio


CORRUPTIONS: dict[str, Corruption] = {
    "clean": clean,
    "audio_noise": audio_noise,
    "image_blank": image_blank,
    "gaussian": gaussian,
}


def corrupt(name: str, images: Tensor, audio: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Apply corruption ``name`` with a generator of its own, seeded with ``seed`` on the inputs' device,
    so a corruption's noise depends only on the seed and the device, not on what ran before it.

    Raises:
        ValueError: ``name`` is not in ``CORRUPTIONS``.

    Example:
        >>> images, audio = corrupt("audio_noise", images_uint8, audio, seed=0)
    """
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; known: {', '.join(CORRUPTIONS)}")
    gen = torch.Generator(device=images.device)
    gen.manual_seed(seed)
    return CORRUPTIONS[name](images, audio, gen)
