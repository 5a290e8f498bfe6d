"""The module an export scripts: raw uint8 images + MFCC features -> logits, preprocessing included."""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import get_args

import torch
from torch import Tensor, nn

from common.constants import AUDIO_COEFFS, AUDIO_FEATURES, AUDIO_FRAMES, IMAGE_PIXELS, IMAGE_SIDE
from data_utils.preprocess import (
    AudioLayout,
    PreprocessConfig,
    Preprocessor,
)
from models.classifier import MultimodalClassifier
from serving.layout import ExportError


def fitted_copy(pre: Preprocessor, cls: type[Preprocessor] = Preprocessor) -> Preprocessor:
    """A CPU copy of a fitted preprocessor (as ``cls``), so that exporting leaves the original alone."""
    if pre.audio_layout not in get_args(AudioLayout):
        raise ExportError(f"cannot export audio layout {pre.audio_layout!r}; known: {', '.join(get_args(AudioLayout))}")
    out = cls(PreprocessConfig(image_scaling=pre.image_scaling, audio_layout=pre.audio_layout))
    out.load_state_dict({k: v.detach().cpu() for k, v in pre.state_dict().items()})
    return out



class ExportedClassifier(nn.Module):
    """Raw inputs -> logits: the fitted preprocessing and the classifier in one scriptable module.

    Args:
        preprocessor: the fitted ``Preprocessor`` of the trial (its statistics are copied).
        model: the trained ``MultimodalClassifier``.

    ``forward(images, audio)`` takes uint8 pixels 0..255 as (B, 784) or (B, 28, 28) and MFCC features
    (floating point, frame-major) as (B, 507) or (B, 39, 13), and returns float32 logits (B, num_classes).
    Wrong shapes or dtypes raise with a message that names the expected ones. Call ``.eval()`` first.

    Example:
        >>> wrapped = ExportedClassifier(result.preprocessor, result.model).eval()
        >>> torch.jit.script(wrapped)(images_uint8, audio).argmax(1)  # (B,) digits
    """

    def __init__(self, preprocessor: Preprocessor, model: MultimodalClassifier) -> None:
        super().__init__()
        self.preprocess = fitted_copy(preprocessor)
        self.model = model
        self.image_side = IMAGE_SIDE
        self.image_pixels = IMAGE_PIXELS
        self.audio_frames, self.audio_coeffs, self.audio_features = AUDIO_FRAMES, AUDIO_COEFFS, AUDIO_FEATURES

    def forward(self, images: Tensor, audio: Tensor) -> Tensor:
        if images.dtype != torch.uint8:
            raise ValueError("images must be uint8 pixels 0..255: convert whole numbers with .to(torch.uint8); "
                             "multiply images scaled to 0..1 by 255 first")
        if not audio.is_floating_point():
            raise ValueError("audio must be floating-point MFCC features: convert with .to(torch.float32)")
        square = images.dim() == 3 and images.shape[1] == self.image_side and images.shape[2] == self.image_side
        if not (square or (images.dim() == 2 and images.shape[1] == self.image_pixels)):
            raise ValueError(f"images must have shape (B, 784) or (B, 28, 28), got {images.shape}")
        frames = audio.dim() == 3 and audio.shape[1] == self.audio_frames and audio.shape[2] == self.audio_coeffs
        if not (frames or (audio.dim() == 2 and audio.shape[1] == self.audio_features)):
            raise ValueError(f"audio must have shape (B, 507) or (B, 39, 13), got {audio.shape}")
        if images.shape[0] != audio.shape[0]:
            raise ValueError(f"images and audio must have the same batch size, got {images.shape[0]} and {audio.shape[0]}")
        image, sequence = self.preprocess(images.reshape(-1, self.image_pixels), audio.reshape(-1, self.audio_features))
        return self.model(image, sequence).float()  # (B, num_classes)



@contextlib.contextmanager
def quiet_jit() -> Iterator[None]:
    """Silence "`torch.jit.script` is deprecated" and the like: torch 2.13 deprecates the TorchScript
    API, which still works, and a user of export or predict can do nothing about the warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`?torch\.jit\.\w+`? is deprecated")
        yield


def script(wrapped: ExportedClassifier) -> torch.jit.ScriptModule:
    """``torch.jit.script(wrapped)``, quietly."""
    with quiet_jit():
        return torch.jit.script(wrapped)


def probe_inputs(batch: int = 4, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Random raw inputs: uint8 images (B, 784), audio (B, 507)."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch, IMAGE_PIXELS), dtype=torch.uint8, generator=gen)
    return images, torch.randn(batch, AUDIO_FEATURES, generator=gen)


def check_close(what: str, got: Tensor, expected: Tensor, tolerance: float) -> None:
    """Max |got - expected| <= tolerance, relative to the logits' scale when it exceeds 1."""
    diff = (got - expected).abs().max().item()
    if not diff <= tolerance * max(1.0, expected.abs().max().item()):  # also catches NaN
        raise ExportError(
            f"the {what} export does not reproduce the model: logits differ by up to {diff:.3g} "
            f"(tolerance {tolerance:g}); please report this with the trial config"
        )
