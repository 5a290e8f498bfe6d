"""The rows of the real-data benchmark's table (a model trained with several seeds), what the report shows
(``Outcome``), and the table itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from common.stats import sample_std
from search.api import SearchSpec

CORRUPTED = ("audio_noise", "image_blank", "gaussian")


@dataclass
class Row:
    """One line of the table: a model trained with several seeds."""

    label: str
    scores: list[dict[str, dict[str, float]]] = field(default_factory=list)  # per seed: {corruption: {accuracy, f1}}
    params: int = 0
    train_seconds: list[float] = field(default_factory=list)  # per seed: its epochs' CPU seconds
    search_seconds: float | None = None  # the search's epochs' CPU seconds
    latency_ms: list[float] = field(default_factory=list)  # per seed (serving.footprint)
    trial: str | None = None  # the search's trial this row retrained

    def mean_std(self, corruption: str, metric: str) -> tuple[float, float]:
        values = [s[corruption][metric] for s in self.scores]
        return float(np.mean(values)), sample_std(values)


def pm(mean_std: tuple[float, float]) -> str:
    return f"{mean_std[0]:.4f} ± {mean_std[1]:.4f}"


def table(rows: list[Row]) -> str:
    head = [
        "model",
        "seeds",
        "test macro F1",
        "test accuracy",
        "params",
        "latency ms",
        "CPU s: one model",
        "CPU s: search",
        *(f"F1 {c}" for c in CORRUPTED),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r.label,
            str(len(r.scores)),
            pm(r.mean_std("clean", "f1")),
            pm(r.mean_std("clean", "accuracy")),
            f"{r.params:,}",
            f"{np.median(r.latency_ms):.3f}",
            f"{np.mean(r.train_seconds):.0f}",
            "" if r.search_seconds is None else f"{r.search_seconds:.0f}",
            *(f"{r.mean_std(c, 'f1')[0]:.4f}" for c in CORRUPTED),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass
class Outcome:
    """What the report shows, read back from the experiment folders."""

    facts: dict[str, Any]  # FACTS_FILE: the settings and what the run measured that the folders do not hold
    presets: list[Row]
    preset_root: Path
    searched: dict[str, list[Row]] = field(default_factory=dict)  # search name -> its retrained trials, best first
    specs: dict[str, tuple[SearchSpec, Path]] = field(default_factory=dict)

    @property
    def rows(self) -> list[Row]:
        return [*self.presets, *(row for rows in self.searched.values() for row in rows)]

    @property
    def budget(self) -> float:
        return self.facts["budget_work"]
