"""Constants with one home: the inputs' shapes, the number of classes, and the metrics trials report."""

from __future__ import annotations

IMAGE_SIDE = 28
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE  # 784, row-major
AUDIO_FRAMES, AUDIO_COEFFS = 39, 13
AUDIO_FEATURES = AUDIO_FRAMES * AUDIO_COEFFS  # 507, frame-major
NUM_CLASSES = 10

# The validation metrics a trial reports every epoch, each with its better direction (Tune's "mode").
METRIC_MODES = {"val_f1": "max", "val_accuracy": "max", "val_loss": "min", "val_robust_f1": "max"}

# What a trained model costs to deploy, each measured by serving.footprint (lower is better): its parameter
# count, the size of its exported TorchScript file and the median time of one forward pass.
FOOTPRINT = ("params", "model_mb", "latency_ms")
