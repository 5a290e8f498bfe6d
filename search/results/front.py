"""The Pareto front of a multi-objective search: pareto.csv and pareto.md, its figure in report.md, and the
members that retraining takes.

A trial belongs to the front when it is feasible (trained, within every limit of ``search.constraints``)
and no other feasible trial is as good on every objective and better on one, each trial counted at its
best epoch by the first objective (the leaderboard's row). Trials that early stopping ended count with
what they reached: the searcher saw the same.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from common.atomic import atomic_write_text
from common.constants import FOOTPRINT
from search.results.folder import HP, PARETO_FILE, ExperimentFolder
from search.results.leaderboard import feasible, searched_columns
from search.results.pareto import costs, spread
from search.results.plots import DPI, figure
from search.results.tables import simple_markdown
from search.space.spec import SearchSection


def front(table: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's rows on the Pareto front (``front`` 1), best first objective first."""
    return table[table["front"] == 1] if "front" in table else table.iloc[:0]


def retrain_trials(table: pd.DataFrame, goals: dict[str, str], k: int) -> list[str]:
    """The trials to retrain, up to ``k`` (``retrain.top_k``), the one to export as best/ first.

    One objective: the best feasible trials. Several: members spread along the Pareto front, from the
    best first objective (best/: the documented choice) to the other end (``search.results.pareto.spread``).
    """
    if len(goals) == 1:
        ok = ~table["status"].astype(str).str.startswith(("failed", "infeasible"))
        return list(table[ok]["trial_id"].head(k))
    rows = table[feasible(table, goals)].reset_index(drop=True)
    picked = spread(costs(rows[list(goals)].to_numpy(float), list(goals.values())), k)
    return list(rows["trial_id"].iloc[picked])


def front_columns(table: pd.DataFrame, goals: dict[str, str]) -> list[str]:
    shown = [*goals, *(c for c in FOOTPRINT if c in table and c not in goals)]
    return ["trial_id", "status", *shown, "best_epoch", "epochs", *searched_columns(table)]


def front_section(root: Path, name: str, search: SearchSection, table: pd.DataFrame) -> str:
    """Write pareto.csv and pareto.md of the experiment ``name`` (searches of several objectives only) and
    return report.md's section."""
    goals = search.goals
    if len(goals) == 1:
        return ""
    text = f"## Pareto front: {', '.join(f'{g} ({m})' for g, m in goals.items())}\n\n"
    members = front(table) if not table.empty else table
    if members.empty:
        return text + "No feasible trial has a value for every objective yet.\n"
    rows = members[front_columns(table, goals)].rename(columns=lambda c: c.removeprefix(HP))
    atomic_write_text(ExperimentFolder(root).front("csv"), rows.to_csv(index=False))
    atomic_write_text(ExperimentFolder(root).front("md"), f"# {name}: Pareto front\n\n" + simple_markdown(rows))

    limits = "".join(f", {name} <= {value:g}" for name, value in search.constraints.items())
    return text + (
        f"{len(members)} feasible trial(s) on the front, of {int(feasible(table, goals).sum())} feasible{limits}: "
        f"[{PARETO_FILE}.md]({PARETO_FILE}.md) (and .csv).\n\n"
        + figure(front_figure(table, goals, dict(search.constraints)), root, "pareto", "Pareto front")
        + "\n"
        + simple_markdown(rows)
    )


def front_figure(table: pd.DataFrame, goals: dict[str, str], limits: dict[str, float]) -> Figure:
    """The first objective against each other one: the front (joined), the other trials that completed,
    those stopped early (hollow), those over a limit (crosses, on the axis' floor when they have no value),
    and the limits (dashed)."""
    first, others = next(iter(goals)), list(goals)[1:]
    fig = Figure(figsize=(5.2 * len(others), 4.2), dpi=DPI, layout="constrained")
    ok = feasible(table, goals)
    on_front = ok & (table.get("front") == 1)
    stopped = ok & table["status"].astype(str).str.startswith("stopped")
    infeasible = table["status"].astype(str).str.startswith("infeasible")
    for i, other in enumerate(others):
        ax = fig.add_subplot(1, len(others), i + 1)
        rows = table[on_front].sort_values(other)
        ax.plot(rows[other], rows[first], color="tab:red", linewidth=1, zorder=1)
        ax.scatter(rows[other], rows[first], marker="*", s=120, color="tab:red", label="Pareto front", zorder=3)
        done = table[ok & ~on_front & ~stopped]
        ax.scatter(done[other], done[first], color="tab:blue", label="completed", zorder=2)
        cut = table[ok & ~on_front & stopped]
        ax.scatter(cut[other], cut[first], facecolors="none", edgecolors="tab:blue", label="stopped early", zorder=2)
        bad = table[infeasible & table.reindex(columns=[other])[other].notna()] if other in table else table.iloc[:0]
        if not bad.empty:
            low = ax.get_ylim()[0]
            ys = bad[first].where(bad[first].notna(), low) if first in bad else pd.Series(low, index=bad.index)
            ax.scatter(
                bad[other], ys, marker="x", color="0.4", label="infeasible (not trained; at the floor without a value)", zorder=2
            )
        if other in limits:
            ax.axvline(limits[other], color="0.4", linestyle="--", linewidth=1, label=f"limit {limits[other]:g}")
        if first in limits:
            ax.axhline(limits[first], color="0.4", linestyle="--", linewidth=1)
        if other == "params" and not table.empty and (table[other].max() / max(1.0, table[other].min()) > 30):
            ax.set_xscale("log")
        ax.set(xlabel=f"{other} ({goals[other]})", ylabel=f"{first} ({goals[first]})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig
