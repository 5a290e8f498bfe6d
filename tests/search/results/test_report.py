"""report.md: its figures and tables, for a finished search and for one killed before it finished."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.image import imread

from search.results.folder import RETRAIN_FILE, ExperimentFolder
from search.results.importance import NoImportance, importances, rebuild_study
from search.results.report import asha_rungs, conditional_importance_text
from search.run import main
from search.runtime.retrain import ABLATIONS, summarize
from search.runtime.tuner import make_scheduler
from search.space.params import RecordingSuggester, sample
from search.space.spec import SchedulerSection, load_spec
from tests.helpers import ROOT

SMOKE = str(ROOT / "spaces" / "smoke.yaml")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EPOCHS = 2


@pytest.fixture(scope="module")
def experiment(ray_cluster, tmp_path_factory) -> Path:
    """One real tiny search, shared by the module: two trials, no retraining (the slow part, faked below)."""
    results = tmp_path_factory.mktemp("report")
    space = yaml.safe_load(Path(SMOKE).read_text())
    space["retrain"] = {"top_k": 0}
    (results / "smoke.yaml").write_text(yaml.safe_dump(space))
    assert main([str(results / "smoke.yaml"), "--results", str(results), "--num-samples", "2", "--max-epochs", str(EPOCHS)]) == 0
    assert not (results / "smoke" / RETRAIN_FILE).exists()
    return results / "smoke"


def copy_of(experiment: Path, tmp_path: Path) -> Path:
    root = tmp_path / "smoke"
    shutil.copytree(experiment, root)
    for name in ("report.md", "leaderboard.csv", "leaderboard.json", "leaderboard.md"):
        (root / name).unlink(missing_ok=True)  # the command under test must write them
    shutil.rmtree(root / "figures", ignore_errors=True)
    return root


def write_retrained(root: Path, source: str) -> dict:
    """retrain.json as run_retraining writes it: ``source`` with both modalities and each alone, two seeds."""
    rng = np.random.default_rng(0)
    rows = []
    for i, variant in enumerate(("fused", *ABLATIONS)):
        for seed in range(2):
            matrix = rng.integers(0, 5, (10, 10)) + 40 * np.eye(10, dtype=int)
            rows.append(
                {
                    "source": source,
                    "variant": variant,
                    "seed": seed,
                    "run": f"{source}-{variant}-seed{seed}",
                    "accuracy": 0.9 - 0.1 * i + 0.01 * seed,
                    "f1": 0.8 - 0.1 * i + 0.02 * seed,
                    "per_class_f1": rng.uniform(size=10).tolist(),
                    "confusion_matrix": matrix.tolist(),
                }
            )
    summary = summarize(rows, "test")
    (root / RETRAIN_FILE).write_text(json.dumps(summary))
    return summary


def report(root: Path, capsys: pytest.CaptureFixture) -> str:
    """``python -m search.report ROOT``'s main, in this process (the command's wiring: test_bad_inputs.py)."""
    from search.report import main as report_command

    capsys.readouterr()
    assert report_command([str(root)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {root / 'report.md'}"
    text = (root / "report.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images
    for image in images:
        path = root / image
        assert not Path(image).is_absolute() and path.read_bytes()[:8] == PNG_SIGNATURE
        height, width, _ = imread(path).shape
        assert height > 100 and width > 100
    return text


def section(text: str, title: str) -> str:
    """The body of the report's section whose heading starts with ``title``."""
    match = re.search(rf"^## {re.escape(title)}.*?\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE)
    assert match, f"no section {title!r}"
    return match.group(1)


def table_rows(body: str) -> list[list[str]]:
    """The data rows of the first markdown table in ``body``."""
    lines = [line for line in body.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def last_epochs(root: Path) -> list[int]:
    return [
        max(json.loads(line)["epoch"] for line in p.read_text().splitlines() if line.strip())
        for p in (root / "tune").glob("*/result.json")
    ]


@pytest.mark.ray
def test_report_of_a_finished_search(experiment, tmp_path, capsys):
    root = copy_of(experiment, tmp_path)
    best = ExperimentFolder(experiment).read_leaderboard()["trial_id"][0]
    fused, image_only, audio_only = write_retrained(root, best)["configs"]
    text = report(root, capsys)
    assert set(re.findall(r"\]\((figures/\w+\.png)\)", text)) == {
        "figures/learning_curves.png",
        "figures/rungs.png",
        "figures/importance.png",
        "figures/confusion.png",
    }
    # the leaderboard is rebuilt, retrained configs first, and its top is in the report
    leaderboard = ExperimentFolder(root).read_leaderboard()
    assert [r["rank"] for r in json.loads((root / "leaderboard.json").read_text())] == ["retrained"] * 3 + [1, 2]
    assert [row[1] for row in table_rows(section(text, "Top 2 trials"))] == leaderboard["trial_id"].tolist()
    # trials per rung, as their results say (smoke: grace period 1, reduction factor 2)
    reached = last_epochs(root)
    rungs = table_rows(section(text, "Early stopping"))
    assert [(r[0], int(r[1])) for r in rungs] == [("1", len(reached)), ("2 (max_t)", sum(e >= EPOCHS for e in reached))]
    # fANOVA assesses exactly the searched parameters, with shares that sum to one
    importance = {name: float(value) for name, value in table_rows(section(text, "Hyperparameter importance"))}
    assert set(importance) == {"model.fusion.name", "train.lr"}, text
    assert sum(importance.values()) == pytest.approx(1, abs=1e-3)
    # the retrained table, the ablation and the confusion matrix come from retrain.json
    assert [row[1] for row in table_rows(section(text, "Retrained"))] == [
        f"retrained {v}, 2 seed(s)" for v in ("fused", *ABLATIONS)
    ]
    ablation = table_rows(section(text, "Modality ablation"))
    assert [row[0] for row in ablation] == [f"fused ({leaderboard['hp.model.fusion.name'][0]})", "image_only", "audio_only"]
    assert ablation[1][1] == f"{image_only['f1_mean']:.4f} ± {image_only['f1_std']:.4f}"
    assert ablation[2][2] == f"{audio_only['accuracy_mean']:.4f} ± {audio_only['accuracy_std']:.4f}"
    assert f"Trial {best} (fused, macro F1 {fused['f1_mean']:.4f}), on the test split, summed over its 2 seed(s)" in text
    assert "No retrain.json" not in text


@pytest.mark.ray
def test_report_of_a_search_killed_before_retraining_says_what_is_missing(experiment, tmp_path, capsys):
    root = copy_of(experiment, tmp_path)
    killed = next((root / "tune").glob("*/result.json")).parent  # killed before its first result: no result, no error
    for name in ("result.json", "error.txt"):
        (killed / name).unlink(missing_ok=True)
    text = report(root, capsys)
    assert set(re.findall(r"\]\((figures/\w+\.png)\)", text)) == {"figures/learning_curves.png", "figures/rungs.png"}
    assert "Not assessed: fANOVA needs at least 2 trials with a result, this experiment has 1." in text
    for title in ("Retrained", "Modality ablation", "Confusion matrix"):
        assert section(text, title).strip().startswith("No retrain.json:"), title
    leaderboard = ExperimentFolder(root).read_leaderboard()
    assert json.loads((root / "leaderboard.json").read_text())[0]["rank"] == 1  # no retrained rows
    assert leaderboard["status"].tolist() == [leaderboard["status"][0], "not started"], leaderboard
    assert leaderboard["trial_id"][1] == killed.name
    assert "trials started: 1." in section(text, "Early stopping")


@pytest.mark.parametrize("scheduler", [(20, 2, 3), (4, 1, 2), (6, 3, 3)])
def test_rungs_are_the_schedulers(scheduler):
    max_t, grace_period, reduction_factor = scheduler
    asha = SchedulerSection(max_t=max_t, grace_period=grace_period, reduction_factor=reduction_factor)
    spec = load_spec(SMOKE, {f"scheduler.{k}": v for k, v in vars(asha).items()})
    ray_rungs = [milestone for milestone, _ in make_scheduler(spec)._brackets[0]._rungs]
    assert asha_rungs(asha) == sorted({*ray_rungs, max_t})
    assert asha_rungs(SchedulerSection(name="none", max_t=max_t)) == []


def test_the_rebuilt_study_has_each_trials_own_parameters_and_distributions():
    spec = load_spec(ROOT / "spaces" / "fusion.yaml")
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(8):
        suggester = RecordingSuggester(rng)
        draws.append((sample(list(spec.params), suggester), suggester.names))
    study = rebuild_study(spec.params, spec.search.mode, [(sampled, float(i)) for i, (sampled, _) in enumerate(draws)])
    for trial, (sampled, names) in zip(study.trials, draws):
        assert sorted(trial.params) == sorted(names)  # conditional and per-block ones only where sampled
        assert trial.distributions["train.lr"].log
        for i, channels in enumerate(sampled.get("model.image.channels", [])):
            assert trial.params[f"model.image.channels.{i}"] == channels
    result = importances(spec.params, spec.search.mode, [(sampled, float(i % 3)) for i, (sampled, _) in enumerate(draws)])
    common = set.intersection(*(set(names) for _, names in draws))
    assert set(result.scores) == common and set(result.left_out) == set().union(*(names for _, names in draws)) - common
    assert "model.audio.hidden" in result.left_out
    # every left-out parameter is assessed among the trials where it exists
    assert set(result.conditional) == set(result.left_out)
    for name, conditional in result.conditional.items():
        assert conditional.trials == sum(name in names for _, names in draws)
        assert (conditional.share is None) == bool(conditional.why_not), (name, conditional)


def test_a_conditional_parameter_is_assessed_among_the_trials_where_it_exists():
    spec = load_spec(
        SMOKE,
        {
            "space": {
                "model.fusion.name": {"choice": ["concat", "add"]},
                "model.fusion.dim": {"choice": [8, 16], "when": {"model.fusion.name": "add"}},
                "train.lr": {"loguniform": [1e-3, 1e-2]},
            }
        },
    )
    rng = np.random.default_rng(0)
    results = []
    for _ in range(24):
        sampled = sample(list(spec.params), RecordingSuggester(rng))
        # among the `add` trials the width decides; the `concat` ones score at random
        score = sampled["model.fusion.dim"] / 16 if "model.fusion.dim" in sampled else float(rng.uniform())
        results.append((sampled, score + 1e-3 * sampled["train.lr"]))
    result = importances(spec.params, spec.search.mode, results)
    assert result.left_out == ("model.fusion.dim",)
    dim = result.conditional["model.fusion.dim"]
    assert dim.trials == sum("model.fusion.dim" in sampled for sampled, _ in results) >= 2
    assert dim.share > 0.9  # it explains almost all the variance where it exists
    text = conditional_importance_text(result.conditional)
    assert f"| model.fusion.dim | {dim.trials} | {dim.share:.4f} |" in text
    # a choice among lists: Optuna sees its index
    indexed = load_spec(SMOKE, {"space": {"model.image.fc": {"choice": [[64], [128, 64]]}}})
    sampled = {"model.fusion.name": "late", "train.lr": 1e-3, "model.image.fc": [128, 64]}
    assert rebuild_study(indexed.params, indexed.search.mode, [(sampled, 0.5)]).trials[0].params["model.image.fc"] == 1


def test_importance_says_why_it_cannot_be_assessed():
    presets = load_spec(ROOT / "spaces" / "seeds.yaml")
    with pytest.raises(NoImportance, match="presets"):
        importances(presets.params, presets.search.mode, [({}, 0.5), ({}, 0.6)])
    smoke = load_spec(SMOKE)
    trial = {"model.fusion.name": "late", "train.lr": 1e-3}
    with pytest.raises(NoImportance, match="at least 2 trials with a result, this experiment has 1"):
        importances(smoke.params, smoke.search.mode, [(trial, 0.5)])
    with pytest.raises(NoImportance, match="nothing to explain"):
        importances(smoke.params, smoke.search.mode, [(trial, 0.5), (trial, 0.5)])


@pytest.mark.ray
def test_retrain_command_redoes_retraining_and_export_without_searching(experiment, tmp_path, capfd):
    from search.retrain import main as retrain

    root = copy_of(experiment, tmp_path)
    trials_before = sorted(p.name for p in (root / "tune").iterdir() if p.is_dir())
    # twice in one Ray session (a user's cluster, --address): the second replaces the first, nothing of it kept
    assert retrain([str(root), "--seeds", "1", "--top-k", "1", "--no-ablation"]) == 0
    first_runs = {p.name for p in (root / "retrain" / "tune").iterdir() if p.is_dir()}
    assert retrain([str(root), "--seeds", "2", "--top-k", "1", "--no-ablation"]) == 0
    runs = {p.name for p in (root / "retrain" / "tune").iterdir() if p.is_dir()}
    assert len(runs) == 2 and not runs & first_runs, (first_runs, runs)
    assert sorted(p.name for p in (root / "tune").iterdir() if p.is_dir()) == trials_before  # no new trial
    summary = json.loads((root / RETRAIN_FILE).read_text())
    best = ExperimentFolder(root).read_leaderboard()["trial_id"][0]
    assert [(g["source"], g["variant"], g["seeds"]) for g in summary["configs"]] == [(best, "fused", 2)]
    assert json.loads((root / "best" / "metrics.json").read_text())["source_trial"] == best
    assert json.loads((root / "leaderboard.json").read_text())[0]["rank"] == "retrained"
    assert "No retrain.json" not in (root / "report.md").read_text()
    assert f"report: {root / 'report.md'}" in capfd.readouterr().out
