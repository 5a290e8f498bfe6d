"""The real-data benchmark's Pareto section (issue #19): the multi-objective search's front beside the
hand-tuned presets and the single-objective searches' bests, every model measured the same way.

The front is the search's own (validation scores, ``search.results.front``); the members it retrained are
then scored on the test set like every other row, and their latency measured as the presets' is
(``serving.footprint``: batch 1, one thread, the exported model).
"""

from __future__ import annotations

from pathlib import Path
from statistics import median

from matplotlib.figure import Figure

from bench.benchmark_rows import Outcome, Row
from common.atomic import atomic_write_text
from search.api import ExperimentFolder
from search.results.plots import save_png
from search.results.tables import simple_markdown

FRONT_ARM = "pareto"  # the multi-objective search of bench/real_benchmark.py
REFERENCE = "report3_spectrogram_cnn"  # the preset the question is asked against
SPEEDUP = 10  # "a tenth of its latency"


def latency(row: Row) -> float:
    return median(row.latency_ms)


def f1(row: Row) -> float:
    return row.mean_std("clean", "f1")[0]


def question(reference: Row | None, members: list[Row]) -> str:
    """Is there a retrained front member at the reference's test F1 with a tenth of its latency?"""
    if reference is None or not members:
        return "Not measured: the reference preset or the front's retrained members are missing."
    fast = [m for m in members if latency(m) <= latency(reference) / SPEEDUP]
    good = [m for m in fast if f1(m) >= f1(reference)]
    head = (
        f"{REFERENCE}: test macro F1 {f1(reference):.4f}, {latency(reference):.3f} ms. "
        f"Retrained front members within a {SPEEDUP}th of its latency ({latency(reference) / SPEEDUP:.3f} ms): {len(fast)} of {len(members)}"
    )
    if not good:
        return f"**No**. {head}; none at its F1."
    best = max(good, key=f1)
    (_, std), (_, ref_std) = best.mean_std("clean", "f1"), reference.mean_std("clean", "f1")
    margin = f1(best) - f1(reference)
    return (
        f"**Yes**. {head}; {len(good)} at or above its F1, the best {best.trial} with {f1(best):.4f} at "
        f"{latency(best):.3f} ms ({latency(reference) / latency(best):.0f}x faster) and {best.params:,} parameters "
        f"({margin:+.4f}: {'more' if margin > max(std, ref_std) else 'no more'} than the seeds' std, {max(std, ref_std):.4f})."
    )


def plot(outcome: Outcome, path: Path) -> None:
    """Test macro F1 against latency: presets, the single-objective searches' bests, the front's members."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for row in outcome.presets:
        ax.scatter(latency(row), f1(row), marker="s", color="tab:grey")
        ax.annotate(
            row.label.split(": ")[-1], (latency(row), f1(row)), fontsize="x-small", xytext=(4, 2), textcoords="offset points"
        )
    for name, rows in outcome.searched.items():
        if name != FRONT_ARM:
            ax.scatter(latency(rows[0]), f1(rows[0]), marker="o", label=f"{name}: best, retrained")
    members = sorted(outcome.searched.get(FRONT_ARM, []), key=latency)
    ax.plot(
        [latency(m) for m in members],
        [f1(m) for m in members],
        "*-",
        color="tab:red",
        markersize=11,
        label="front members, retrained",
    )
    ax.set(xscale="log", xlabel="latency, ms (batch 1, one thread, exported model)", ylabel="test macro F1 (mean over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
    fig.tight_layout()
    save_png(fig, path)


def front_section(outcome: Outcome, out: Path) -> str:
    """Write the front's CSV and figure beside ``out``; return the report's section ("" without the arm)."""
    if FRONT_ARM not in outcome.specs:
        return ""
    spec, root = outcome.specs[FRONT_ARM]
    members = ExperimentFolder(root).read_front()
    columns = [c for c in ("trial_id", *spec.search.goals, "params", "model_mb", "epochs", "status") if c in members]
    csv, png = out.with_name(f"{out.stem}_front.csv"), out.with_name(f"{out.stem}_front.png")
    atomic_write_text(csv, members[columns].to_csv(index=False))
    plot(outcome, png)
    reference = next((r for r in outcome.presets if r.label.endswith(REFERENCE)), None)
    goals = ", ".join(f"{g} ({m})" for g, m in spec.search.goals.items())
    return f"""
## Pareto front: {goals}

The multi-objective search (`search.objectives`, TPE + the multi-objective ASHA) under the same work as the
others: {len(members)} trial(s) on its front by validation scores ([{csv.name}]({csv.name})); its
{len(outcome.searched.get(FRONT_ARM, []))} retrained members spread along it are rows of the table above.

{simple_markdown(members[columns])}
![test macro F1 against latency]({png.name})

Is there a front member at the F1 of report 3 with a tenth of its latency? {question(reference, outcome.searched.get(FRONT_ARM, []))}
"""
