"""An export's MODEL_CARD.md and preprocessing.json: what the model is, its inputs and outputs, how to use it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from torch import nn

from common.constants import AUDIO_FEATURES
from data_utils.preprocess import (
    CHUNK_SIZE,
    CHUNKS,
    SPEC_HOP,
    SPEC_N_FFT,
    Preprocessor,
    audio_shape,
)
from models.classifier import MultimodalClassifier, count_parameters, to_dict
from serving.layout import CONFIG_FILE, MODEL_FILE, ONNX_FILE, ONNX_OPSET, ONNX_TOLERANCE, PREPROCESSING_FILE, STATE_FILE
from training.config import TrialConfig


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
        "spectrogram": {"n_fft": SPEC_N_FFT, "hop_length": SPEC_HOP, "window": "hann"}
        if pre.audio_layout == "spectrogram"
        else None,
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


def model_card(
    config: TrialConfig, model: MultimodalClassifier, pre: Preprocessor, metrics: Mapping[str, Any], onnx: bool
) -> str:
    cfg = config.model
    steps, features = audio_shape(pre.audio_layout)
    parts = [("image encoder", model.image_encoder, cfg.image), ("audio encoder", model.audio_encoder, cfg.audio)]
    arch = [
        f"- {label}: {component_text(comp)}, {count_parameters(mod):,} parameters"
        if mod is not None
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
        if onnx
        else ""
    )
    return f"""# Written + spoken digit classifier ({cfg.fusion.name} fusion)

A multimodal classifier of a handwritten digit image (MNIST-style, 28x28) paired with MFCC features of a
spoken digit (39 frames x 13 coefficients), exported by avsearch (`serving/export.py`). `{MODEL_FILE}`
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
