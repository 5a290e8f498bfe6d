"""The trials as a table a person reads: what leaderboard.md and report.md show (the CSV and JSON keep every column).

Rank, trial, status, the metrics (the search's first), best / run epochs, parameter count, training time,
then only the hyperparameters that differ among the rows shown, under short names (``model.audio.hidden``
is ``audio.hidden``, ``model.fusion.name`` is ``fusion``), lists written compactly (``[16, 32]`` as
``16,32``).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from common.constants import FOOTPRINT, METRIC_MODES
from search.results.folder import HP

METRICS = tuple(METRIC_MODES)


def short_names(keys: list[str]) -> dict[str, str]:
    """{dotted key: the shortest tail of it that no other key shares}; a ``name`` key goes by its parent."""

    def tail(key: str, n: int) -> str:
        parts = key.split(".")
        if parts[-1] == "name" and len(parts) > 1:
            parts = parts[:-1]
        return ".".join(parts[-n:])

    out = {}
    for key in keys:
        n = 1
        while n < len(key.split(".")) and sum(tail(other, n) == tail(key, n) for other in keys) > 1:
            n += 1
        out[key] = tail(key, n)
    return out


def compact(value: Any) -> str:
    """One cell: floats to 4 significant digits, lists without brackets or spaces, empty lists as '-'."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    if re.fullmatch(r"\[.*\]", text):
        return text[1:-1].replace(" ", "").replace("'", "") or "-"
    return text


def status(value: str) -> str:
    match = re.fullmatch(r"stopped early at epoch (\d+)", str(value))
    return f"stopped @{match.group(1)}" if match else str(value)


def short(amount: float) -> str:
    """``amount`` in three significant digits and a suffix: 2.35M, 640k, 12."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= scale:
            return f"{amount / scale:.3g}{suffix}"
    return f"{amount:.3g}"


def count(n: Any) -> str:
    return "" if pd.isna(n) else short(int(n))


def readable(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``table`` (leaderboard rows, best first) with the columns a person reads, as strings."""
    metrics = [metric, *(m for m in METRICS if m != metric)]
    out = pd.DataFrame({"rank": table["rank"].astype(str), "trial": table["trial_id"]})
    if "front" in table:  # several objectives: the Pareto front each trial is on
        out.insert(1, "front", table["front"].map(compact))
    if "source" in table and (table["source"] != "sampled").any():  # warm-start trials say where they came from
        out["source"] = table["source"]
    out["status"] = table["status"].map(status)
    for m in metrics:
        if m in table:
            out[m] = table[m].map(compact)
    if "best_epoch" in table:
        out["epochs (best)"] = [f"{e} ({b})" if pd.notna(b) else str(e) for e, b in zip(table["epochs"], table["best_epoch"])]
    if "params" in table:
        out["params"] = table["params"].map(count)
    for measure in FOOTPRINT[1:]:  # model_mb, latency_ms: when the search measured them
        if measure in table:
            out[measure] = table[measure].map(compact)
    if "train_seconds" in table:
        out["time"] = table["train_seconds"].map(lambda s: "" if pd.isna(s) else f"{s:.1f} s")
    varied = [c for c in table if c.startswith(HP) and table[c].astype(str).nunique() > 1]
    names = short_names([c.removeprefix(HP) for c in table if c.startswith(HP)])
    for c in varied:
        out[names[c.removeprefix(HP)]] = table[c].map(compact)
    return out


def readable_retrained(top: pd.DataFrame) -> pd.DataFrame:
    """The retrained configs (``search.results.leaderboard.retrained_table``) with mean ± std in one cell per metric."""
    return pd.DataFrame(
        {
            "trial": top["trial_id"],
            "status": top["status"],
            "macro F1": [f"{m:.4f} ± {s:.4f}" for m, s in zip(top["f1_mean"], top["f1_std"])],
            "accuracy": [f"{m:.4f} ± {s:.4f}" for m, s in zip(top["accuracy_mean"], top["accuracy_std"])],
        }
    )


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|")


def simple_markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"
