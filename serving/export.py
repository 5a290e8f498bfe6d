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

import copy
import io
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from data_utils.preprocess import (
    Preprocessor,
)
from models.classifier import MultimodalClassifier
from search.space.typed_config import to_dict
from serving.classifier import ExportedClassifier, check_close, probe_inputs, quiet_jit, script
from serving.layout import (
    CARD_FILE,
    CONFIG_FILE,
    EXPORT_FILES,
    METRICS_FILE,
    MODEL_FILE,
    ONNX_FILE,
    PREPROCESSING_FILE,
    STATE_FILE,
    ExportError,
)
from serving.model_card import model_card, preprocessing_summary
from serving.onnx_export import onnx_bytes, require_onnx
from training.config import TrialConfig


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
        raise ExportError(f"{str(folder)!r} holds no exported model (no {MODEL_FILE}); pass a folder written by serving.export.export_model")
    try:
        with quiet_jit():
            module = torch.jit.load(str(path), map_location=map_location)
    except (RuntimeError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"cannot load {path}: {first}; re-export the model") from None
    return module.eval()



# --- checks -------------------------------------------------------------------------------------------


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


