"""The ONNX copy of an export: the STFT as real convolutions (ONNX has no complex tensors), checked
against onnxruntime."""
from __future__ import annotations

import importlib.util
import io
import math
import warnings

import torch
from torch import Tensor, nn

from data_utils.preprocess import (
    PreprocessConfig,
    Preprocessor,
)
from models.classifier import MultimodalClassifier
from serving.classifier import ExportedClassifier, check_close, fitted_copy, probe_inputs
from serving.layout import ONNX_OPSET, ONNX_TOLERANCE, ExportError


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



def require_onnx() -> None:
    missing = [name for name in ("onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportError(
            f"ONNX export needs the optional package(s) {', '.join(missing)}: "
            "pip install onnx onnxruntime (or pip install -e '.[onnx]'), or export without onnx"
        )




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
