"""What a trial's model costs to deploy: parameters, exported size and inference latency. No Ray.

A trial measures these before its first epoch (``search.runtime.worker``), so that a model over a limit of
``search.constraints`` is never trained; the search can also minimize them (``search.objectives``).
None depends on the weights, so an untrained model with unfitted preprocessing measures the same as
the trained one, which lets ``bench/`` measure hand-tuned and searched models alike.
"""

from __future__ import annotations

import copy
import io
import statistics
import time
from collections.abc import Collection

import torch

from common.constants import FOOTPRINT
from data_utils.preprocess import Preprocessor, audio_shape
from models.classifier import MultimodalClassifier, build_model, count_parameters
from serving.checks import probe_inputs
from serving.export import ExportedClassifier, quiet_jit, script
from training.config import TrialConfig

# params: trainable parameters; model_mb: the exported TorchScript file (model.ts), in MB (10^6 bytes);
# latency_ms: the median wall time of one forward pass of the exported model on a batch of raw inputs
LATENCY_WARMUP = 20  # untimed passes first: allocator, oneDNN/cuDNN kernel choice, caches
LATENCY_RUNS = 50  # timed passes; the median shrugs off a neighbour's burst on a shared machine


def trial_footprint(
    config: TrialConfig, which: Collection[str], device: str | torch.device = "cpu", latency_batch: int = 1
) -> dict[str, float]:
    """The ``which`` FOOTPRINT measures of the model ``config`` builds, untrained, on ``device`` with the
    calling process's torch threads."""
    with torch.random.fork_rng(devices=[]):  # building a model draws weights: leave the caller's stream alone
        model = build_model(config.model, audio_shape(config.preprocess.audio_layout))
    return footprint(model, Preprocessor(config.preprocess), which, device, latency_batch)


def footprint(
    model: MultimodalClassifier,
    preprocessor: Preprocessor,
    which: Collection[str],
    device: str | torch.device = "cpu",
    latency_batch: int = 1,
) -> dict[str, float]:
    """Measure a model (and its preprocessing) as it would be exported.

    Args:
        model, preprocessor: left unchanged (measured on copies).
        which: names of FOOTPRINT to measure.
        device: where latency is measured.
        latency_batch: samples per timed forward pass.

    Returns:
        {name: value} for each name in ``which``.

    Example:
        >>> footprint(result.model, result.preprocessor, FOOTPRINT, "cpu", latency_batch=1)
        {'params': 76554, 'model_mb': 0.33, 'latency_ms': 0.41}
    """
    unknown = set(which) - set(FOOTPRINT)
    if unknown:
        raise ValueError(f"cannot measure {sorted(unknown)}; known: {', '.join(FOOTPRINT)}")
    out: dict[str, float] = {}
    if "params" in which:
        out["params"] = count_parameters(model)
    wrapped = ExportedClassifier(preprocessor, copy.deepcopy(model).cpu()).eval()
    if "model_mb" in which:
        buffer = io.BytesIO()
        with quiet_jit():
            torch.jit.save(script(wrapped), buffer)
        out["model_mb"] = len(buffer.getvalue()) / 1e6
    if "latency_ms" in which:
        out["latency_ms"] = latency_ms(wrapped.to(device), torch.device(device), latency_batch)
    return out


@torch.inference_mode()
def latency_ms(module: torch.nn.Module, device: torch.device, batch: int) -> float:
    """Median milliseconds of ``module(images, audio)`` on a batch of raw inputs, after warm-up passes."""
    images, audio = (x.to(device) for x in probe_inputs(batch))
    for _ in range(LATENCY_WARMUP):
        module(images, audio)
    times = []
    for _ in range(LATENCY_RUNS):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        module(images, audio)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
