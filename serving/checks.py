"""What an export checks before and after it writes: ONNX installed, a target folder it may replace, the
scripted model matching the eager one, JSON-able metadata."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from common.constants import AUDIO_FEATURES, IMAGE_PIXELS
from serving.layout import EXPORT_FILES, MODEL_FILE, ExportError


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
