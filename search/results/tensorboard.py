"""TensorBoard logs of a trial, written from its rank-0 Ray Train worker.

Train V2 rejects Tune's logger callbacks (ray-project/ray#49454), so each trial writes its own run:
per-epoch scalars and the HParams plugin's summaries (every hyperparameter, and the metrics to compare
them by), so that `tensorboard --logdir results/<name>/tensorboard` compares trials in its HParams table
and parallel-coordinates views.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.constants import METRIC_MODES

SCALARS = ("train_loss", *METRIC_MODES, "lr")


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config -> {"model.audio.hidden": 64, ...}; lists become strings (HParams takes scalars)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            out[name] = str(list(value))
        elif value is None:
            out[name] = "none"
        else:
            out[name] = value
    return out


class TrialBoard:
    """One trial's TensorBoard run (``logdir``), named by its trial id: stable across retries."""

    def __init__(self, logdir: str | Path, hparams: Mapping[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams as hparams_summaries

        self.writer = SummaryWriter(str(logdir))
        # Declared up front, so a trial that ASHA stops early is in the HParams table too; the metric
        # values are read from the scalar series of the same tags.
        for summary in hparams_summaries(dict(hparams), {tag: 0.0 for tag in SCALARS if tag.startswith("val_")}):
            self.writer.file_writer.add_summary(summary)

    def log(self, metrics: Mapping[str, Any]) -> None:
        step = int(metrics["epoch"])
        for tag in SCALARS:
            if tag in metrics:
                self.writer.add_scalar(tag, float(metrics[tag]), step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
