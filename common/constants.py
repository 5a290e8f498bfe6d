"""Constants with one home: the inputs' shapes, the number of classes, the metrics trials report, and the exit
codes of an experiment stopped before its end."""

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

# An experiment stopped before its end exits as the shell reports a command stopped by the signal; it can be resumed.
INTERRUPTED = 130  # Ctrl-C
TERMINATED = 143  # SIGTERM (`timeout`, SLURM, Kubernetes)
STOPPED_BY = {INTERRUPTED: "interrupted", TERMINATED: "terminated"}
