"""An exported model folder's files, the ONNX settings, and the error for a folder that is not an export."""

from __future__ import annotations

from common.errors import OneLineError

MODEL_FILE = "model.ts"
STATE_FILE = "state_dict.pt"
CONFIG_FILE = "config.json"
PREPROCESSING_FILE = "preprocessing.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
ONNX_FILE = "model.onnx"
EXPORT_FILES = frozenset({MODEL_FILE, STATE_FILE, CONFIG_FILE, PREPROCESSING_FILE, METRICS_FILE, CARD_FILE, ONNX_FILE})

ONNX_OPSET = 17  # the first opset with STFT, which the spectrogram layout needs
ONNX_TOLERANCE = 1e-4  # max |logit difference| between onnxruntime and PyTorch that export accepts


class ExportError(OneLineError, ValueError):
    """A problem the user can fix (no model in a folder, a folder that is not an export, ONNX not
    installed); ``str(e)`` is one line, which a CLI prints without a traceback."""
