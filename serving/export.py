"""A trained trial -> a self-contained model folder that predicts from raw arrays, with no project code.

``export_model`` writes one folder::

    model.ts            TorchScript: raw uint8 images + MFCC features -> logits (preprocessing included)
    state_dict.pt       the classifier's and the preprocessor's weights (torch.load(weights_only=True))
    config.json         the trial config, as search.spec.parse_trial_config reads it back
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
import importlib.util
import io
import json
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

from data_utils.preprocess import (
    AUDIO_COEFFS,
    AUDIO_FEATURES,
    AUDIO_FRAMES,
    CHUNK_SIZE,
    CHUNKS,
    IMAGE_SIDE,
    SPEC_HOP,
    SPEC_N_FFT,
    AudioLayout,
    PreprocessConfig,
    Preprocessor,
    audio_shape,
)
from models.classifier import MultimodalClassifier, count_parameters
from search.typed_config import to_dict
from training.config import TrialConfig

MODEL_FILE = "model.ts"
STATE_FILE = "state_dict.pt"
CONFIG_FILE = "config.json"
PREPROCESSING_FILE = "preprocessing.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
ONNX_FILE = "model.onnx"
EXPORT_FILES = frozenset({MODEL_FILE, STATE_FILE, CONFIG_FILE, PREPROCESSING_FILE, METRICS_FILE, CARD_FILE, ONNX_FILE})

IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE  # 784
ONNX_OPSET = 17  # the first opset with STFT, which the spectrogram layout needs
ONNX_TOLERANCE = 1e-4  # max |logit difference| between onnxruntime and PyTorch that export accepts


class ExportError(ValueError):
    """A problem the user can fix (no model in a folder, a folder that is not an export, ONNX not
    installed); ``str(e)`` is one line, which a CLI prints without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


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
        raise ExportError(f"model folder {str(folder)!r} does not exist; pass a folder written by search.export.export_model")
    if not folder.is_dir():
        raise ExportError(f"{str(folder)!r} is not a folder; pass the folder that holds {MODEL_FILE}, not a file in it")
    path = folder / MODEL_FILE
    if not path.is_file():
        raise ExportError(f"{str(folder)!r} holds no exported model (no {MODEL_FILE}); pass a folder written by search.export.export_model")
    try:
        with quiet_jit():
            module = torch.jit.load(str(path), map_location=map_location)
    except (RuntimeError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"cannot load {path}: {first}; re-export the model") from None
    return module.eval()


# --- checks -------------------------------------------------------------------------------------------


def require_onnx() -> None:
    missing = [name for name in ("onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportError(
            f"ONNX export needs the optional package(s) {', '.join(missing)}: "
            "pip install onnx onnxruntime (or pip install -e '.[onnx]'), or export without onnx"
        )


def check_target(out_dir: Path) -> None:
    """``out_dir`` may be created or replaced: it is absent, empty, or a previous export."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ExportError(f"{str(out_dir)!r} is a file; pick a folder name for the exported model")
    entries = set(os.listdir(out_dir))
    if entries and not (MODEL_FILE in entries and entries <= EXPORT_FILES):
        shown = ", ".join(sorted(entries - EXPORT_FILES)[:3] or sorted(entries)[:3])
        raise ExportError(
            f"{str(out_dir)!r} already holds files that are not an exported model ({shown}); "
            "pick a new or empty folder (an earlier export there would be replaced)"
        )


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


def jsonable(value: Any, path: str) -> Any:
    """Plain JSON values (tensor and numpy scalars via ``.item()``); TypeError names the offending key."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{path}: {type(value).__name__} is not JSON-serializable; pass numbers, strings, lists or dicts")


def dumps(value: Any) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()


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
            wrapped, probe_inputs(), buffer, dynamo=False, opset_version=ONNX_OPSET,
            input_names=["images", "audio"], output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "audio": {0: "batch"}, "logits": {0: "batch"}},
        )
    data = buffer.getvalue()
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    images, audio = probe_inputs(batch=7, seed=1)
    (logits,) = session.run(None, {"images": images.numpy(), "audio": audio.numpy()})
    with torch.no_grad():
        check_close("ONNX", torch.from_numpy(logits), model(*preprocessor(images, audio)).float(), ONNX_TOLERANCE)
    return data


# --- metadata -----------------------------------------------------------------------------------------


def preprocessing_summary(pre: Preprocessor) -> dict[str, Any]:
    steps, features = audio_shape(pre.audio_layout)
    return {
        "image_scaling": pre.image_scaling,
        "image_mean": pre.image_mean.item(),  # image = (pixels - image_mean) / image_std
        "image_std": pre.image_std.item(),
        "audio_mean": pre.audio_mean.tolist(),  # per feature, 507 values, frame-major
        "audio_std": pre.audio_std.tolist(),
        "audio_layout": pre.audio_layout,
        "audio_layout_shape": [steps, features],  # (T, F) the audio encoder sees
        "spectrogram": {"n_fft": SPEC_N_FFT, "hop_length": SPEC_HOP, "window": "hann"} if pre.audio_layout == "spectrogram" else None,
    }


LAYOUT_TEXT = {
    "frames": "the 39 frames x 13 coefficients as a sequence",
    "chunks": f"the first {CHUNKS * CHUNK_SIZE} values as {CHUNKS} chunks of {CHUNK_SIZE} (the last {AUDIO_FEATURES - CHUNKS * CHUNK_SIZE} are dropped)",
    "flat": f"the {AUDIO_FEATURES} values as a sequence of one feature",
    "spectrogram": f"log(1 + |STFT|) of the {AUDIO_FEATURES}-long sequence (n_fft {SPEC_N_FFT}, hop {SPEC_HOP}, Hann window)",
}


def component_text(component: Any) -> str:
    settings = {k: v for k, v in to_dict(component).items() if k != "name"}
    return f"`{component.name}` " + (", ".join(f"{k}={v}" for k, v in settings.items()) or "(defaults)")


def metric_rows(metrics: Mapping[str, Any]) -> Iterator[str]:
    for key, value in metrics.items():
        if key == "data":
            continue
        if isinstance(value, float) and math.isfinite(value) and value != int(value):
            value = f"{value:.4f}"
        yield f"| {key} | {value} |"


def model_card(config: TrialConfig, model: MultimodalClassifier, pre: Preprocessor, metrics: Mapping[str, Any], onnx: bool) -> str:
    cfg = config.model
    steps, features = audio_shape(pre.audio_layout)
    parts = [("image encoder", model.image_encoder, cfg.image), ("audio encoder", model.audio_encoder, cfg.audio)]
    arch = [
        f"- {label}: {component_text(comp)}, {count_parameters(mod):,} parameters" if mod is not None
        else f"- {label}: none (the `{cfg.fusion.name}` fusion does not use this input, which is ignored)"
        for label, mod, comp in parts
    ]
    arch.append(f"- fusion: {component_text(cfg.fusion)}, {count_parameters(model.fusion):,} parameters")
    if isinstance(model.head, nn.Identity):
        head = "none (the fusion outputs the logits)"
    elif cfg.head.hidden:
        head = f"MLP {list(cfg.head.hidden)} -> Linear to {cfg.num_classes} (dropout {cfg.head.dropout}, batch norm {cfg.head.batch_norm})"
    else:
        head = f"Linear to {cfg.num_classes}"
    arch.append(f"- head: {head}, {count_parameters(model.head):,} parameters")
    arch.append(f"- total: {count_parameters(model):,} trainable parameters")
    if pre.image_scaling == "standardize":
        image_text = f"(pixels - {pre.image_mean.item():.4f}) / {pre.image_std.item():.4f} (training-set mean and std)"
    else:
        image_text = "pixels / 255"
    data = metrics.get("data")
    data_text = str(data) if data is not None else "not recorded."
    table = "\n".join(metric_rows(metrics)) or "| (none given) | |"
    onnx_text = (
        f"\n`{ONNX_FILE}` is the same model for onnxruntime (opset {ONNX_OPSET}); it takes only the flat shapes, "
        f"(B, 784) uint8 and (B, 507) float32, and matches the PyTorch logits within {ONNX_TOLERANCE:g}.\n"
        if onnx else ""
    )
    return f"""# Written + spoken digit classifier ({cfg.fusion.name} fusion)

A multimodal classifier of a handwritten digit image (MNIST-style, 28x28) paired with MFCC features of a
spoken digit (39 frames x 13 coefficients), exported by avsearch (`search/export.py`). `{MODEL_FILE}`
needs only PyTorch: the preprocessing fitted on the training data is part of it.

## Inputs and output

| name | shape | dtype | what |
| --- | --- | --- | --- |
| images | (B, 784) or (B, 28, 28) | uint8 | pixels 0..255, white digit on black, row-major |
| audio | (B, 507) or (B, 39, 13) | float32 (any float) | MFCCs, frame-major (39 frames x 13 coefficients) |
| output | (B, {cfg.num_classes}) | float32 | logits; `argmax(1)` is the digit, `softmax(1)` the class probabilities |
{onnx_text}
## Preprocessing (inside the model)

- image: {image_text}, as (B, 1, 28, 28).
- audio: standardized per feature with the training set's 507 means and standard deviations
  (`{PREPROCESSING_FILE}`), then laid out as `{pre.audio_layout}`: {LAYOUT_TEXT[pre.audio_layout]},
  shape (B, {steps}, {features}).

## Architecture

{chr(10).join(arch)}

The full trial config (model, preprocessing, augmentation, optimization) is in `{CONFIG_FILE}`.

## Training data

{data_text}

## Metrics

| metric | value |
| --- | --- |
{table}

## Use

```python
import torch
model = torch.jit.load("{MODEL_FILE}")  # from this folder
digits = model(images, audio).argmax(1)  # images: uint8 (B, 784); audio: float32 (B, 507)
```

Or, without TorchScript: rebuild the model from `{CONFIG_FILE}` with the avsearch code and load
`{STATE_FILE}` with `torch.load(path, weights_only=True)` (keys `model` and `preprocessor`).

## Limitations

- The audio must be MFCCs computed as in the training data (39 frames x 13 coefficients, frame-major);
  other feature extractors, frame counts or orderings give meaningless predictions without any error.
- Images must be MNIST-like: centred, white on black, 0..255. Scaled (0..1) or float images are rejected.
- The metrics are those passed at export (usually the validation split of the search, which chose this
  model among many, so they are optimistic); measure on a held-out test set (`python -m search.predict`).
- If the training data is the built-in demo, its audio is synthetic: the model knows nothing of real speech.
- Exported on the CPU in eval mode; move it with `model.to(device)`. TorchScript is deprecated in recent
  PyTorch releases but still loads; {"`" + ONNX_FILE + "` is the portable alternative" if onnx else "export with onnx=True for a portable ONNX copy"}.
"""
