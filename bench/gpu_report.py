"""The GPU check's report (``bench/gpu_check.py``): its targets' verdicts and the Markdown file."""

from __future__ import annotations

from typing import Any

TARGET_EPOCH_S, TARGET_TRIALS_PER_HOUR, TARGET_BUSY_PCT = 1.0, 1000, 70.0


def verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("**met**" if met else "**missed**")


def markdown(result: dict[str, Any]) -> str:
    m, rows, s = result["machine"], result["throughput"], result["search"]
    intro = (
        f"Written by `bench/gpu_check.py` (issue 20) on {result['data']}: {result['samples']:,} training samples "
        f"(the training split tiled), device `{result['device']}`. Total wall time {result['wall_s'] / 60:.1f} min."
        + (" A dry run: toy sizes, no search, no verdicts." if result["dry_run"] else "")
    )
    how = (
        "Samples/s over whole runs (model and data set-up, every epoch's validation passes); the reference is the seeds' "
        "DataLoader loop (`bench/throughput.py`) at the same batch on the same device. Epoch: the last epoch's training "
        "and validation, in seconds."
    )
    lines = [
        "# GPU check",
        "",
        intro,
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in m.items()],
        "",
        "## Throughput",
        "",
        how,
        "",
        "| model | params | batch | ours (samples/s) | reference (samples/s) | ratio | epoch (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['model']} | {r['params']:,} | {r['batch']} | {r['ours_samples_s']:,.0f} | {r['reference_samples_s']:,.0f} | "
        f"{r['ratio']:.2f}x | {r['epoch_s']:.2f} |"
        for r in rows
    ]
    lines += ["", "## Search", ""]
    if s:
        g = s["gpu"]
        busy = (
            "not sampled" if g["busy_mean_pct"] is None else f"{g['busy_mean_pct']:.0f}% mean, {g['busy_median_pct']:.0f}% median"
        )
        setup = (
            f"`spaces/fusion.yaml`, TPE + ASHA, {s['concurrent']} trials at once, {s['gpus_per_trial']:g} GPU each "
            f"(`gpus_per_worker: auto`), time budget {result['search_s']:.0f} s; {s['train_samples']:,} train / "
            f"{s['val_samples']:,} validation samples. Exit code {s['exit_code']}."
        )
        trials = (
            f"- trials: {s['trials']} in {s['wall_s']:.0f} s of wall time (cluster start included): "
            f"{s['trials_per_hour']:,.0f} per hour ({s['trials_per_hour_of_budget']:,.0f} per hour of the time budget); "
            f"{s['reached_max_t']} reached max_t, {s['epochs']} epochs in all"
        )
        lines += [
            setup,
            "",
            trials,
            f"- per-trial start-up (trial driver start to training loop): {s['startup_s']:.1f} s on average",
            f"- training + evaluation: {s['train_eval_s']:.0f} s summed over trials",
            f"- GPU busy ({g['source']}, {g['samples']} samples, every 0.5 s): {busy}",
            "- GPU memory peak (device-wide): "
            + ("not sampled" if g["memory_peak_mib"] is None else f"{g['memory_peak_mib']:,.0f} MiB"),
        ]
    else:
        lines += ["Not run."]
    lines += ["", "## Targets", ""] + [f"- {t['what']}: {t['measured']}: {verdict(t['met'])}" for t in result["targets"]]
    return "\n".join(lines) + "\n"


def targets(rows: list[dict], search_result: dict | None, report1: str, dry_run: bool) -> list[dict[str, Any]]:
    """The issue's targets with their verdicts (none for a dry run, whose figures are a toy run's)."""
    out = [
        {
            "what": f"an epoch of {report1} on the training samples within {TARGET_EPOCH_S:g} s, batch {r['batch']}",
            "measured": f"{r['epoch_s']:.2f} s",
            "met": None if dry_run else r["epoch_s"] <= TARGET_EPOCH_S,
        }
        for r in rows
        if r["model"] == report1
    ]
    busy = search_result["gpu"]["busy_mean_pct"] if search_result else None
    out.append(
        {
            "what": f"at least {TARGET_TRIALS_PER_HOUR:,} fusion.yaml trials per hour with ASHA on one GPU",
            "measured": f"{search_result['trials_per_hour']:,.0f}" if search_result else "-",
            "met": search_result["trials_per_hour"] >= TARGET_TRIALS_PER_HOUR if search_result else None,
        }
    )
    out.append(
        {
            "what": f"the GPU busy at least {TARGET_BUSY_PCT:.0f}% of the search",
            "measured": "-" if busy is None else f"{busy:.0f}%",
            "met": None if busy is None else busy >= TARGET_BUSY_PCT,
        }
    )
    return out
