"""The leaderboard: one row per trial, built from the experiment folder alone.

Reading the folder (not Tune's in-memory results) means the same code serves a finished search, a
resumed one and one whose driver was killed. Written as leaderboard.csv, .json and .md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from common.atomic import atomic_write_text
from common.constants import FOOTPRINT
from search.results.folder import HP, RETRAINED, ExperimentFolder, read_history, read_params
from search.results.pareto import INFEASIBLE, costs, front_ranks
from search.results.tables import METRICS, readable, readable_retrained, simple_markdown
from search.results.tensorboard import flatten
from search.space.resolve import TrialResolver
from search.space.spec import SearchSection
from search.space.warm_start import trial_source


def last_error(trial_dir: Path) -> str | None:
    path = trial_dir / "error.txt"
    if not path.is_file():
        return None
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"


def kept_checkpoint(reported: str | None, metric: str, mode: str) -> str | None:
    """The reported checkpoint if Ray Train kept it, else the best one its run kept.

    A stopped trial's Train run can report once more after Tune's last look, and keeping only the best
    checkpoint may then delete the one Tune saw; the run's snapshot lists what is on disk.
    """
    if not isinstance(reported, str):
        return None
    if Path(reported).is_dir():
        return reported
    snapshot = Path(reported).parent / "checkpoint_manager_snapshot.json"
    if not snapshot.is_file():
        return None
    kept = [
        c
        for c in json.loads(snapshot.read_text()).get("checkpoint_results", [])
        if metric in c.get("metrics", {}) and (snapshot.parent / c["checkpoint_dir_name"]).is_dir()
    ]
    if not kept:
        return None
    best = (max if mode == "max" else min)(kept, key=lambda c: c["metrics"][metric])
    return str(snapshot.parent / best["checkpoint_dir_name"])


def tune_checkpoint(trial_dir: Path, history: list[dict[str, Any]], metric: str, mode: str) -> str | None:
    """The best checkpoint Tune kept of a trial that trained in-process (Tune then owns its checkpoints and
    records each epoch's in ``checkpoint_dir_name``): the best epoch's, which Tune keeps by the same metric."""
    kept = [
        r for r in history if isinstance(r.get("checkpoint_dir_name"), str) and (trial_dir / r["checkpoint_dir_name"]).is_dir()
    ]
    if not kept:
        return None
    return str(trial_dir / (max if mode == "max" else min)(kept, key=lambda r: r[metric])["checkpoint_dir_name"])


def trial_row(trial_dir: Path, search: SearchSection, resolve: TrialResolver) -> dict[str, Any]:
    sampled = read_params(trial_dir)
    history = read_history(trial_dir)
    error = last_error(trial_dir)
    metric, mode = search.metric, search.mode
    row: dict[str, Any] = {"trial_id": trial_dir.name}
    if history and history[-1].get(INFEASIBLE):  # over a limit: measured, never trained
        row.update(
            status=f"infeasible: {history[-1][INFEASIBLE]}",
            epochs=0,
            **{k: history[-1][k] for k in FOOTPRINT if k in history[-1]},
        )
    elif history:
        best = (max if mode == "max" else min)(history, key=lambda r: r[metric])
        epochs = history[-1]["epoch"]
        if epochs >= resolve.epochs:
            status = "completed"
        else:
            status = "failed" if error else f"stopped early at epoch {epochs}"
        row.update(
            status=status,
            best_epoch=best["epoch"],
            epochs=epochs,
            **{m: best[m] for m in METRICS if m in best},  # experiments from before val_robust_f1 lack it
            params=best.get("params"),
            **{k: best[k] for k in FOOTPRINT[1:] if k in best},  # model_mb, latency_ms: when the search measured them
            train_seconds=round(sum(r.get("seconds", 0.0) for r in history), 2),
            checkpoint=kept_checkpoint(best.get("checkpoint_path"), metric, mode)
            or tune_checkpoint(trial_dir, history, metric, mode),
        )
    else:
        row.update(status="failed" if error else "not started", epochs=0)
    row["error"] = error if row["status"] == "failed" else None
    row["source"] = trial_source(sampled)
    row.update({HP + k: v for k, v in flatten(resolve(sampled)).items()})
    return row


def trial_table(root: Path, search: SearchSection, resolve: TrialResolver) -> pd.DataFrame:
    """One row per trial of the experiment in ``root``, best first by ``search``'s metric (several objectives:
    Pareto fronts first); ``resolve`` gives each trial's full config from its sampled values, and its epochs."""
    folder = ExperimentFolder(root)
    table = pd.DataFrame([trial_row(folder.trial(t), search, resolve) for t in folder.trial_ids()])
    if table.empty:
        return table
    if search.metric not in table:
        table[search.metric] = float("nan")
    for column in ("best_epoch", "epochs", "params"):  # counts, also where a trial that never reported has none
        if column in table:
            table[column] = table[column].astype("Int64")
    table = table.sort_values(search.metric, ascending=search.mode == "min", na_position="last", kind="stable")
    if len(search.goals) > 1:  # Pareto fronts first, each by the first objective
        table["front"] = fronts(table, search.goals)
        table = table.sort_values("front", na_position="last", kind="stable")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def feasible(table: pd.DataFrame, goals: dict[str, str]) -> pd.Series:
    """Trials with a value for every goal: trained, neither failed nor over a limit."""
    ok = ~table["status"].astype(str).str.startswith(("failed", "infeasible", "not started"))
    return ok & table.reindex(columns=list(goals)).notna().all(axis=1)


def fronts(table: pd.DataFrame, goals: dict[str, str]) -> pd.Series:
    """1 for the feasible trials on the Pareto front of ``goals``, 2 for the next front, ...; NA for the rest."""
    out = pd.Series(pd.NA, index=table.index, dtype="Int64")
    rows = table[feasible(table, goals)]
    if not rows.empty:
        out[rows.index] = front_ranks(costs(rows[list(goals)].to_numpy(float), list(goals.values()))) + 1
    return out


def searched_columns(table: pd.DataFrame) -> list[str]:
    """The hyperparameter columns that the space varies (the others are the same in every row)."""
    return [c for c in table if c.startswith(HP) and table[c].astype(str).nunique() > 1]


def markdown(table: pd.DataFrame, metric: str) -> str:
    """The rows of ``table`` as ``search.results.tables.readable`` shows them: only the hyperparameters that differ among them."""
    return simple_markdown(readable(table, metric))


def retrained_markdown(top: pd.DataFrame) -> str:
    return simple_markdown(readable_retrained(top))


def retrained_table(retrained: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "rank": RETRAINED,
            "trial_id": g["source"],
            "status": f"retrained {g['variant']}, {g['seeds']} seed(s)",
            "evaluated_on": retrained["evaluated_on"],
            "f1_mean": g["f1_mean"],
            "f1_std": g["f1_std"],
            "accuracy_mean": g["accuracy_mean"],
            "accuracy_std": g["accuracy_std"],
        }
        for g in retrained["configs"]
    ]
    return pd.DataFrame(rows)


def write_leaderboard(
    root: Path, table: pd.DataFrame, name: str, search: SearchSection, retrained: dict[str, Any] | None = None
) -> None:
    """leaderboard.csv (every column), .json (records) and .md (the varied hyperparameters) of the experiment
    ``name`` ranked by ``search``'s goals; the retrained configs, with their held-out metrics, come first."""
    folder = ExperimentFolder(root)
    top = retrained_table(retrained) if retrained else pd.DataFrame()
    full = pd.concat([top, table], ignore_index=True) if not top.empty else table
    atomic_write_text(folder.leaderboard("csv"), full.to_csv(index=False))
    atomic_write_text(folder.leaderboard("json"), full.to_json(orient="records", indent=1))
    goals, metric = search.goals, search.metric
    ranking = f"Pareto front over {', '.join(goals)}, then best {metric}" if len(goals) > 1 else f"best {metric}"
    text = f"# {name}: trials by {ranking}\n\n"
    previous = folder.read_warm_start()
    if previous:
        text += (
            f"The searcher also knew {len(previous)} finished trials of {', '.join(sorted({t['source'] for t in previous}))} "
            "from the start (--warm-start), not trained again: their leaderboard lists them.\n\n"
        )
    if not top.empty:
        text += (
            f"## Retrained, evaluated on the {retrained['evaluated_on']} split\n\n"
            + retrained_markdown(top)
            + "\n## Search trials\n\n"
        )
    atomic_write_text(folder.leaderboard("md"), text + markdown(table, metric))
