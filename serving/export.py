"""A trained trial -> a self-contained model folder that predicts from raw arrays, with no project code.

``export_model`` writes one folder::

    model.ts            TorchScript: raw uint8 images + MFCC features -> logits (preprocessing included)
    state_dict.pt       the classifier's and the preprocessor's weights (torch.load(weights_only=True))
    config.json         the trial config, as search.space.spec.parse_trial_config reads it back
    preprocessing.json  the fitted statistics, scaling and audio layout
    metrics.json        the metrics the caller passed
    MODEL_CARD.md       what it is, inputs and outputs, how to use it, limitations
    model.onnx          only with onnx=True (needs the optional onnx + onnxruntime packages)

The folder appears all at once: every file is written into a hidden staging folder beside it, which is then
renamed into place, so a crash leaves either no folder, or the previous export, never a mix of files.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args

import torch
from torch import Tensor, nn

from common.constants import AUDIO_COEFFS, AUDIO_FEATURES, AUDIO_FRAMES, IMAGE_PIXELS, IMAGE_SIDE
from data_utils.preprocess import (
    AudioLayout,
    PreprocessConfig,
    Preprocessor,
)
from models.classifier import MultimodalClassifier, to_dict
from serving.checks import check_close, check_target, dumps, jsonable, probe_inputs, require_onnx
from serving.layout import (
    CARD_FILE,
    CONFIG_FILE,
    METRICS_FILE,
    MODEL_FILE,
    ONNX_FILE,
    ONNX_OPSET,
    ONNX_TOLERANCE,
    PREPROCESSING_FILE,
    STATE_FILE,
    ExportError,
)
from serving.model_card import model_card, preprocessing_summary
from training.config import TrialConfig


def fitted_copy(pre: Preprocessor, cls: type[Preprocessor] = Preprocessor) -> Preprocessor:
    """A CPU copy of a fitted preprocessor (as ``cls``), so that exporting leaves the original alone."""
    if pre.audio_layout not in get_args(AudioLayout):
        raise ExportError(f"cannot export audio layout {pre.audio_layout!r}; known: {', '.join(get_args(AudioLayout))}")
    out = cls(PreprocessConfig(image_scaling=pre.image_scaling, audio_layout=pre.audio_layout))
    out.load_state_dict({k: v.detach().cpu() for k, v in pre.state_dict().items()})
    return out


class OnnxPreprocessing(Preprocessor):
    """The same preprocessing with the STFT as two real convolutions: ONNX has no complex tensors.

    Equal to ``torch.stft(...).abs()`` up to float rounding (~1e-6), so it serves only the ONNX export;
    the TorchScript model keeps ``torch.stft``, bit-identical to training.
    """

    def __init__(self, cfg: PreprocessConfig) -> None:
        super().__init__(cfg)
        n = torch.arange(self.n_fft, dtype=torch.float64)
        k = torch.arange(self.n_fft // 2 + 1, dtype=torch.float64)
        angle = 2 * math.pi * k[:, None] * n[None, :] / self.n_fft  # (F, n_fft)
        window = self.window.to(torch.float64)
        self.register_buffer("dft_cos", (torch.cos(angle) * window).to(torch.float32).unsqueeze(1), persistent=False)
        self.register_buffer("dft_sin", (torch.sin(angle) * window).to(torch.float32).unsqueeze(1), persistent=False)

    def stft_magnitude(self, flat: Tensor) -> Tensor:
        # torch.stft's defaults: center=True with reflect padding of n_fft // 2 on both sides.
        padded = nn.functional.pad(flat.unsqueeze(1), (self.n_fft // 2, self.n_fft // 2), mode="reflect")  # (B, 1, L)
        real = nn.functional.conv1d(padded, self.dft_cos, stride=self.hop)  # (B, F, T)
        imag = nn.functional.conv1d(padded, self.dft_sin, stride=self.hop)
        return torch.sqrt(real * real + imag * imag)


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
            raise ValueError(
                "images must be uint8 pixels 0..255: convert whole numbers with .to(torch.uint8); "
                "multiply images scaled to 0..1 by 255 first"
            )
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


class OnnxClassifier(ExportedClassifier):
    """``ExportedClassifier`` as the ONNX exporter needs it: a real-valued STFT, and both inputs kept.

    The exporter traces one batch, so the shape checks and the (B, 28, 28) / (B, 39, 13) branches are fixed
    to the flat shapes it sees.
    """

    def __init__(self, preprocessor: Preprocessor, model: MultimodalClassifier) -> None:
        super().__init__(preprocessor, model)
        self.preprocess = fitted_copy(preprocessor, OnnxPreprocessing)

    def forward(self, images: Tensor, audio: Tensor) -> Tensor:
        logits = super().forward(images, audio)
        # An image_only or audio_only model ignores one input, which the exporter would then drop from the
        # graph; adding a sum over zero columns of each input (exactly 0) keeps both, so every model.onnx
        # takes the same two inputs.
        return logits + images[:, :0].sum(1, keepdim=True) + audio[:, :0].sum(1, keepdim=True)


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


def export_model(
    out_dir: Path,
    config: TrialConfig,
    model: MultimodalClassifier,
    preprocessor: Preprocessor,
    metrics: Mapping[str, Any],
    *,
    onnx: bool = False,
) -> Path:
    """Write a trained trial as a self-contained model folder (see the module docstring for its files).

    The model is exported on the CPU, in eval mode; the given modules are not modified. Before anything is
    written, the scripted model (and the ONNX model, with ``onnx=True``) is checked to reproduce the
    eager model's logits on a probe batch.

    Args:
        out_dir: the folder to create. It may exist only if it is empty or holds a previous export, which
            is then replaced as a whole.
        config: the trial's resolved config.
        model: the trained classifier (``TrainResult.model``), on any device.
        preprocessor: its fitted preprocessor (``TrainResult.preprocessor``).
        metrics: JSON-friendly numbers (e.g. ``{"val_f1": 0.97, "epoch": 12}``); an optional ``"data"``
            string describes the training data in the model card.
        onnx: also write ``model.onnx`` (flat inputs only: (B, 784) uint8 and (B, 507) float32).

    Returns:
        ``out_dir``, as an absolute path.

    Raises:
        ExportError: ``out_dir`` exists and is not an export; ``onnx=True`` without onnx and onnxruntime
            installed; the exported model does not reproduce the eager one.

    Example:
        >>> result = train(config, train_split, val_split)
        >>> export_model(Path("best"), config, result.model, result.preprocessor, result.history[-1])
        >>> torch.jit.load("best/model.ts")(images, audio).argmax(1)
    """
    out_dir = Path(os.path.abspath(Path(out_dir).expanduser()))  # "." or "a/.." get a name to stage beside
    if onnx:
        require_onnx()
    check_target(out_dir)
    metrics = jsonable(dict(metrics), "metrics")
    model = copy.deepcopy(model).cpu().eval()
    preprocessor = copy.deepcopy(preprocessor).cpu().eval()
    wrapped = ExportedClassifier(preprocessor, model).eval()
    scripted = script(wrapped)
    probe = probe_inputs()
    with torch.no_grad():
        expected = model(*preprocessor(*probe)).float()  # the trainer's own path: Preprocessor + model
        check_close("TorchScript", scripted(*probe), expected, 1e-5)

    files: dict[str, bytes] = {}
    buffer = io.BytesIO()
    with quiet_jit():
        torch.jit.save(scripted, buffer)
    files[MODEL_FILE] = buffer.getvalue()
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "preprocessor": preprocessor.state_dict()}, buffer)
    files[STATE_FILE] = buffer.getvalue()
    files[CONFIG_FILE] = dumps(to_dict(config))
    files[PREPROCESSING_FILE] = dumps(preprocessing_summary(preprocessor))
    files[METRICS_FILE] = dumps(metrics)
    files[CARD_FILE] = model_card(config, model, preprocessor, metrics, onnx).encode()
    if onnx:
        files[ONNX_FILE] = onnx_bytes(preprocessor, model)
    write_folder(out_dir, files)
    return out_dir


def load_exported(folder: Path, map_location: str | torch.device = "cpu") -> torch.jit.ScriptModule:
    """The TorchScript model of an exported folder, in eval mode.

    No Python object is unpickled: a TorchScript archive holds tensors and code for the TorchScript
    interpreter, which cannot import Python modules. Still, load only models you trust.

    Args:
        folder: a folder written by ``export_model``.
        map_location: where to put the weights.

    Returns:
        A module mapping raw images and audio (see ``ExportedClassifier``) to logits (B, 10).

    Raises:
        ExportError: the folder does not exist or holds no readable ``model.ts``.

    Example:
        >>> model = load_exported(Path("best"))
        >>> model(images_uint8, audio).argmax(1)
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise ExportError(f"model folder {str(folder)!r} does not exist; pass a folder written by serving.export.export_model")
    if not folder.is_dir():
        raise ExportError(f"{str(folder)!r} is not a folder; pass the folder that holds {MODEL_FILE}, not a file in it")
    path = folder / MODEL_FILE
    if not path.is_file():
        raise ExportError(
            f"{str(folder)!r} holds no exported model (no {MODEL_FILE}); pass a folder written by serving.export.export_model"
        )
    try:
        with quiet_jit():
            module = torch.jit.load(str(path), map_location=map_location)
    except (RuntimeError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"cannot load {path}: {first}; re-export the model") from None
    return module.eval()


# --- writing ------------------------------------------------------------------------------------------


def write_folder(out_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` into a staging folder beside ``out_dir``, then rename it into place.

    Replacing a previous export takes two renames (old aside, new in); between them ``out_dir`` is briefly
    missing and the old export survives under a hidden name, which a crash there would leave behind.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir()
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename makes the folder visible
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:8]}.old"
            os.rename(out_dir, old)
            os.rename(staging, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- ONNX ---------------------------------------------------------------------------------------------


def onnx_bytes(preprocessor: Preprocessor, model: MultimodalClassifier) -> bytes:
    """The ONNX model of preprocessing + model (flat inputs, dynamic batch), checked with onnxruntime
    against the eager model on a batch of another size than the one traced."""
    import onnxruntime  # checked by require_onnx

    wrapped = OnnxClassifier(preprocessor, model).eval()
    buffer = io.BytesIO()
    # Not under no_grad: there nn.MultiheadAttention takes a fused fast path that ONNX has no operator for.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter's deprecation and tracer notes
        torch.onnx.export(
            wrapped,
            probe_inputs(),
            buffer,
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=["images", "audio"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "audio": {0: "batch"}, "logits": {0: "batch"}},
        )
    data = buffer.getvalue()
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    images, audio = probe_inputs(batch=7, seed=1)
    (logits,) = session.run(None, {"images": images.numpy(), "audio": audio.numpy()})
    with torch.no_grad():
        check_close("ONNX", torch.from_numpy(logits), model(*preprocessor(images, audio)).float(), ONNX_TOLERANCE)
    return data
