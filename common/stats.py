"""The one std convention: the sample std (ddof=1), since seeds and trials are small samples."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

STD = "sample std (ddof=1) over seeds; 0 for a single seed"  # said in every output that reports a std


def sample_std(values: Iterable[float]) -> float:
    """The sample standard deviation of ``values``; 0.0 for fewer than two (not NaN: it goes into JSON)."""
    values = list(values)
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def mean_std(columns: Mapping[str, Iterable[float]]) -> dict[str, float]:
    """``{name}_mean`` and ``{name}_std`` (sample std) of each named column, in their order."""
    out = {}
    for name, values in columns.items():
        values = list(values)
        out[f"{name}_mean"], out[f"{name}_std"] = float(np.mean(values)), sample_std(values)
    return out
