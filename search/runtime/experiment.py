"""Run (or resume) one search experiment on a Ray cluster: a pipeline of stages, each handed what it needs.

search        the whole space: Tune trials, each a Ray Train run (build_tuner, fit)
leaderboard   the trials ranked by the space's goals (rank_trials: search.results.leaderboard)
retraining    the best trials' configs retrained and evaluated (retrain_best: search.runtime.retrain)
export        the best retrained model to best/, with retrain.export: front each one (search.results.export_stage)
report        report.md over all of it (search.results.report)
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import ray
from ray import tune

from common.constants import INTERRUPTED, TERMINATED
from search.results.export_stage import export_retrained
from search.results.folder import HP, ExperimentFolder
from search.results.front import retrain_trials
from search.results.leaderboard import searched_columns, trial_table, write_leaderboard
from search.results.report import write_report
from search.runtime.budget import make_budget
from search.runtime.cluster import check_resources, leaked_resources, ray_cluster
from search.runtime.console import where_to_watch
from search.runtime.journal import OptunaJournal, finish_journal
from search.runtime.progress import Progress
from search.runtime.ray_workarounds import KeepTrialHistory, remove_job_placement_groups
from search.runtime.retrain import run_retraining
from search.runtime.tuner import (
    gpus_per_worker,
    make_driver,
    make_scheduler,
    make_searcher,
    make_tuner,
    param_space,
    trial_resources,
    trial_runs,
    tune_checkpoints,
)
from search.space.resolve import TrialResolver
from search.space.spec import SearchSection, SearchSpec


def num_trials(spec: SearchSpec) -> int:
    return len(spec.presets) * spec.search.num_samples if spec.presets else spec.search.num_samples


def build_tuner(spec: SearchSpec, data_ref: ray.ObjectRef, root: Path, resume: bool) -> tune.Tuner:
    gpus = gpus_per_worker(spec, ray.cluster_resources().get("GPU", 0.0))
    check_resources(spec, gpus)
    driver = make_driver(spec, data_ref, root, use_gpu=gpus > 0, gpus=gpus)
    # Save the experiment state every second, so a driver killed right after a trial finished does not
    # lose that trial on --resume (Tune's default period grows with the experiment).
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")
    # In-process trials' checkpoints are Tune's, and Tune keeping only the best and latest saves the state
    # after each (so that it never names a deleted one): as often as the line above asks, and its warning
    # about it would fill the progress view.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    if resume:
        return make_tuner(
            driver,
            root,
            {},
            resources=trial_resources(spec, gpus),
            in_process=spec.resources.in_process,
            max_failures=spec.search.max_failures,
            restore=True,
        )
    budget = make_budget(spec.search, spec.scheduler.max_t)  # a stopper, and a callback to hear of trial starts
    progress = Progress(
        spec.search.metric,
        spec.search.mode,
        num_trials(spec),
        spec.scheduler.max_t,
        time_budget_s=spec.search.time_budget_s,
        budget=budget,
    )
    return make_tuner(
        driver,
        root,
        param_space(spec),
        resources=trial_resources(spec, gpus),
        in_process=spec.resources.in_process,
        checkpoint_config=tune_checkpoints(spec),
        max_failures=spec.search.max_failures,
        callbacks=[
            progress,
            KeepTrialHistory(),
            OptunaJournal(ExperimentFolder(root).journal, spec),
            *([budget] if budget else []),
        ],
        stop=budget,
        metric=spec.search.metric,
        mode=spec.search.mode,
        search_alg=make_searcher(spec, ExperimentFolder(root).read_warm_start()),
        scheduler=make_scheduler(spec),
        num_samples=1 if spec.presets else spec.search.num_samples,
        max_concurrent_trials=spec.search.max_concurrent_trials,
        time_budget_s=spec.search.time_budget_s,
    )


def fit(tuner: tune.Tuner) -> int | None:
    """Run the search; None when it finished, else the exit code of what stopped it: Ctrl-C (INTERRUPTED)
    or SIGTERM (TERMINATED). Tune then stopped the trials and saved the experiment, ready for --resume.

    Tune catches the first Ctrl-C itself: it stops the trials, saves the experiment and puts back the
    SIGINT handler it found, this function's, which is how the interruption shows (Tune's results mark
    every stopped trial as terminated). A second Ctrl-C raises KeyboardInterrupt, as Python's would.
    SIGTERM is turned into the same Ctrl-C (Ray's driver handler would exit on the spot, with no save and
    the C++ core worker's stack dump); a second SIGTERM is a second Ctrl-C.
    """
    terminated = []

    def second_ctrl_c(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def sigterm(signum: int, frame: Any) -> None:
        if terminated:
            raise KeyboardInterrupt
        terminated.append(signum)
        signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, second_ctrl_c)
    previous_term = signal.signal(signal.SIGTERM, sigterm)
    try:
        tuner.fit()
        if signal.getsignal(signal.SIGINT) is not second_ctrl_c:
            return None
        return TERMINATED if terminated else INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


def run_experiment(spec: SearchSpec, splits: dict[str, Any], root: Path, address: str | None, resume: bool) -> int:
    """Search ``spec`` on ``splits`` ({"train", "val", "test": Split or None, "source": str}), then retrain
    the best and export it; returns the process exit code (INTERRUPTED after Ctrl-C, TERMINATED after
    SIGTERM: the experiment can be resumed).

    Raises ClusterError when ``address`` cannot be joined, ConfigError when the cluster cannot host a trial.
    """
    folder = ExperimentFolder(root)
    with ray_cluster(address) as dashboard:
        # Once per search: every trial on every node reads it zero-copy. The test set stays out of it.
        data_ref = ray.put({"train": splits["train"], "val": splits["val"]})
        tuner = build_tuner(spec, data_ref, root, resume)
        print(f"search: {num_trials(spec)} trials of up to {spec.scheduler.max_t} epochs; results in {root}")
        print(where_to_watch(dashboard, folder.tensorboard, folder.journal), flush=True)
        stopped = fit(tuner)
        table = rank_trials(root, spec.name, spec.search, spec.resolver())
        if stopped:
            write_report(root, spec, table)
            return stopped
        finish_journal(root, spec, table)
        held = leaked_resources()
        if held:  # trials a budget stopped before their first report: nothing else frees their workers
            remove_job_placement_groups()
            held = leaked_resources()
        print_summary(table, spec.search.metric, root)
        if not held and not table.empty:
            retrain_best(spec, root, splits, table)
            held = leaked_resources()
        print(f"  report: {write_report(root, spec, table)}")
    if held:
        print(
            f"error: resources still held after the search: {held}; Ray did not free stopped trials' workers "
            "(ray-project/ray#54305): is ray[default] installed and the dashboard running?",
            file=sys.stderr,
        )
        return 1
    return 0


def rank_trials(root: Path, name: str, search: SearchSection, resolve: TrialResolver) -> pd.DataFrame:
    """The leaderboard stage: the experiment's trials, read from its folder and ranked by ``search``'s goals;
    writes leaderboard.csv, .json and .md."""
    table = trial_table(root, search, resolve)
    write_leaderboard(root, table, name, search)
    return table


def retrain_best(spec: SearchSpec, root: Path, splits: dict[str, Any], table: pd.DataFrame) -> dict[str, Any] | None:
    """The retraining and export stages: the best trials of ``table`` (``retrain_trials``) retrained as
    ``spec.retrain`` says, the way the search ran its trials, on the cluster's GPUs if it has any, and evaluated
    (``search.runtime.retrain``); then exported (``search.results.export_stage``). The leaderboard is rewritten
    with them on top. Returns retrain.json's summary."""
    gpus = gpus_per_worker(spec, ray.cluster_resources().get("GPU", 0.0))
    retrained = run_retraining(
        spec.retrain,
        root,
        splits,
        retrain_trials(table, spec.search.goals, spec.retrain.top_k),
        resolve=spec.resolver(),
        splitting=spec.data,
        train=trial_runs(spec, gpus),
    )
    if retrained is not None:  # the export stage
        export_retrained(root, retrained, splits["source"], front=spec.retrain.export == "front")
    write_leaderboard(root, table, spec.name, spec.search, retrained)
    if retrained is not None:
        print_retrained(retrained)
    return retrained


def print_summary(table: pd.DataFrame, metric: str, root: Path, top: int = 5) -> None:
    print(f"\ntop trials by best {metric}:")
    key = [HP + k for k in ("model.image.name", "model.audio.name", "model.fusion.name", "preprocess.audio_layout", "train.lr")]
    cols = [c for c in ("rank", "trial_id", "status", metric, "best_epoch") if c in table]
    cols += [c for c in searched_columns(table) if c in key]  # the leaderboard has them all
    with pd.option_context("display.width", 200, "display.max_columns", 12, "display.max_colwidth", 24):
        print(table[cols].head(top).rename(columns=lambda c: c.removeprefix(HP)).to_string(index=False))
    folder = ExperimentFolder(root)
    print(
        f"\nresults: {root}\n  leaderboard: {folder.leaderboard('md')} (.csv, .json)\n"
        f"  tensorboard --logdir {folder.tensorboard}\n  optuna-dashboard {folder.journal}"
    )


def print_retrained(summary: dict[str, Any]) -> None:
    print(f"\nretrained, evaluated on the {summary['evaluated_on']} split (mean +- std over seeds):")
    for g in summary["configs"]:
        print(
            f"  {g['source']} {g['variant']:<11} F1 {g['f1_mean']:.4f} +- {g['f1_std']:.4f}   "
            f"accuracy {g['accuracy_mean']:.4f} +- {g['accuracy_std']:.4f}   ({g['seeds']} seeds)"
        )
