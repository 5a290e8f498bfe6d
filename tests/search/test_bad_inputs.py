"""Bad input to ``python -m search.run`` and ``search.predict``, and a bad folder given to ``search.evaluate``,
``search.report`` or ``search.retrain``: one clear line naming the file or key and the fix, exit code 2, no
traceback, nothing started and nothing written.

Every case runs as ``python -m MODULE ARGV`` would (``runpy`` with ``run_name="__main__"``), but all of them
in one fresh interpreter: a subprocess per case would spend ~3 s importing torch each time. That interpreter
has never imported Ray and refuses to, so a case that gets as far as starting a search is caught; each case
runs in its own folder, which is compared file by file before and after, so nothing may be written anywhere
(the default ``results/`` and ``submission.csv`` are relative to it).
"""

from __future__ import annotations

import importlib.abc
import io
import json
import os
import runpy
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from torch import Tensor

from search.space.resolve import deep_merge
from serving.export import quiet_jit

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "spaces" / "smoke.yaml"
LAYOUTS = {
    "kaggle": ("x_train_wr", "x_train_sp", "y_train", "x_test_wr", "x_test_sp", "y_test"),
    "zenodo": ("data_wr_train", "data_sp_train", "labels_train", "data_wr_test", "data_sp_test", "labels_test"),
}
N_TRAIN, N_TEST = 60, 20  # 6 per class: the smoke space's val_fraction 0.2 leaves every class in both parts
BLOCKED = "ray"  # importing it is the first step of starting anything (search.runtime.experiment imports it)

Builder = Callable[[Path], list[str]]  # writes a case's input into its (empty) folder, returns its argv
FileContent = np.ndarray | bytes | None  # None: remove the file


@dataclass(frozen=True)
class Case:
    id: str
    build: Builder
    expected: tuple[str, ...]  # substrings of the one line on stderr: the file or key, and the problem
    module: str = "search.run"


# --- input builders -------------------------------------------------------------------------------------


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def valid_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, audio, labels) of n samples, every digit equally often."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.standard_normal((n, 507)).astype(np.float32), np.arange(n) % 10)


def write_data(folder: Path, layout: str, n_train: int, files: Mapping[str, FileContent]) -> None:
    """A valid data folder in ``layout``, train and labelled test set, with ``files`` {stem: content} swapped in."""
    folder.mkdir()
    arrays = (*valid_arrays(n_train, 0), *valid_arrays(N_TEST, 1))
    for stem, array in zip(LAYOUTS[layout], arrays, strict=True):
        content = files.get(stem, array)
        if isinstance(content, np.ndarray):
            np.save(folder / f"{stem}.npy", content, allow_pickle=True)
        elif content is not None:
            (folder / f"{stem}.npy").write_bytes(content)


def write_space(folder: Path, space: bytes | str | Mapping[str, Any]) -> str:
    """``space.yaml`` in ``folder``: the content as given, or the smoke space with a mapping merged in."""
    if isinstance(space, Mapping):
        space = yaml.safe_dump(deep_merge(yaml.safe_load(SMOKE.read_text()), space), sort_keys=False)
    (folder / "space.yaml").write_bytes(space if isinstance(space, bytes) else space.encode())
    return "space.yaml"


def space(content: bytes | str | Mapping[str, Any]) -> Builder:
    return lambda d: [write_space(d, content)]


def flags(*argv: str) -> Builder:
    """Only the command line: its files exist (the shipped spaces) or are meant not to."""
    return lambda d: list(argv)


def data(layout: str, n_train: int = N_TRAIN, val_fraction: float | None = None, **files: FileContent) -> Builder:
    """``search.run`` of the smoke space (with ``val_fraction``) on a data folder with ``files`` swapped in."""

    def build(d: Path) -> list[str]:
        write_data(d / "data", layout, n_train, files)
        spec = str(SMOKE) if val_fraction is None else write_space(d, {"data": {"val_fraction": val_fraction}})
        return [spec, "--data", "data"]

    return build


def experiment(saved_space: str, *argv: str) -> Builder:
    """``search.run`` of the smoke space where an experiment 'smoke' ran before and saved ``saved_space``."""

    def build(d: Path) -> list[str]:
        (d / "results" / "smoke").mkdir(parents=True)
        (d / "results" / "smoke" / "space.yaml").write_text(saved_space)
        return [str(SMOKE), *argv]

    return build


def results_is_a_file(d: Path) -> list[str]:
    (d / "results").write_text("")
    return [str(SMOKE)]


def empty_data_folder(d: Path) -> list[str]:
    (d / "data").mkdir()
    return [str(SMOKE), "--data", "data"]


class Zeros(torch.nn.Module):
    """The smallest model ``search.predict`` accepts: the exported interface, constant logits."""

    def forward(self, images: Tensor, audio: Tensor) -> Tensor:
        return torch.zeros(images.shape[0], 10)


@cache
def model_bytes() -> bytes:
    buffer = io.BytesIO()
    with quiet_jit():
        torch.jit.save(torch.jit.script(Zeros()), buffer)
    return buffer.getvalue()


MODELS: dict[str, Callable[[], bytes | None]] = {
    "good": model_bytes,
    "empty folder": lambda: None,
    "not torchscript": lambda: b"not a TorchScript archive",
    "truncated": lambda: model_bytes()[: len(model_bytes()) // 2],
}


def predict(model: str, layout: str = "kaggle", *argv: str, **files: FileContent) -> Builder:
    """``search.predict`` of a model folder (see MODELS) on a data folder with ``files`` swapped in."""

    def build(d: Path) -> list[str]:
        (d / "model").mkdir()
        content = MODELS[model]()
        if content is not None:
            (d / "model" / "model.ts").write_bytes(content)
        write_data(d / "data", layout, N_TRAIN, files)
        return ["model", "--data", "data", *argv]

    return build


# --- the cases ------------------------------------------------------------------------------------------

IMAGES, AUDIO, _ = valid_arrays(N_TRAIN, 0)
NAN_AUDIO = np.where(np.eye(N_TRAIN, 507) > 0, np.nan, AUDIO).astype(np.float32)
ONE_CLIP_FOR_DIGIT_3 = np.where((np.arange(N_TRAIN) % 10 == 3)[:, None], AUDIO[3], AUDIO)  # its 6 samples share it
# 100 zeros and two of each other digit: proportional allocation gives most small classes no validation sample.
SKEWED = np.array([0] * 100 + [d for d in range(1, 10) for _ in range(2)])

CASES = [
    # space files: syntax
    Case("missing-space-file", flags("no/such.yaml"), ("no/such.yaml: no such file",)),
    Case("yaml-unclosed-brace", space("name: x\nsearch: {num_samples: 3\n"), ("space.yaml: invalid YAML: line",)),
    Case("yaml-bad-indent", space("search:\n  num_samples: 3\n   metric: val_f1\n"), ("space.yaml: invalid YAML: line 3",)),
    Case("yaml-not-utf8", space(b"name: caf\xe9\n"), ("space.yaml: cannot read the file",)),
    Case("yaml-top-level-list", space("- search\n- space\n"), ("space.yaml: expected a mapping of sections", "list")),
    # space files: keys and types
    Case("unknown-section", space({"serach": {}}), ("space.yaml: serach: unknown key (did you mean 'search'?)",)),
    Case(
        "unknown-key",
        space({"search": {"num_sample": 3}}),
        ("space.yaml: search.num_sample: unknown key (did you mean 'num_samples'?)",),
    ),
    Case(
        "wrong-type-int",
        space({"search": {"num_samples": "many"}}),
        ("space.yaml: search.num_samples: expected an integer, got 'many'",),
    ),
    Case(
        "wrong-type-bool",
        space({"searcher": {"multivariate": 3}}),
        ("space.yaml: searcher.multivariate: expected true or false, got 3",),
    ),
    Case("unknown-metric", space({"search": {"metric": "val_acc"}}), ("space.yaml: search.metric: got 'val_acc'; valid:",)),
    Case("metric-mode-mismatch", space({"search": {"metric": "val_loss"}}), ("space.yaml: search:", "does not fit metric")),
    Case("bad-experiment-name", space({"name": "a/b"}), ("space.yaml: name: expected a plain experiment name",)),
    Case(
        "val-fraction-out-of-range",
        space({"data": {"val_fraction": 1.5}}),
        ("space.yaml: data:", "val_fraction must be in (0, 1)"),
    ),
    Case("epochs-in-fixed", space({"fixed": {"train": {"epochs": 3}}}), ("space.yaml: train.epochs: is set by scheduler.max_t",)),
    # space files: parameters
    Case(
        "empty-choice",
        space({"space": {"model.fusion.name": {"choice": []}}}),
        ("space.yaml: space.model.fusion.name.choice: expected a non-empty list",),
    ),
    Case(
        "misspelt-kind",
        space({"space": {"train.momentum": {"choise": [0.9]}}}),
        ("space.yaml: space.train.momentum.choise: unknown key (did you mean 'choice'?)",),
    ),
    Case(
        "low-not-below-high",
        space({"space": {"train.weight_decay": {"uniform": [0.1, 0.01]}}}),
        ("space.yaml: space.train.weight_decay.uniform: low must be < high",),
    ),
    Case(
        "log-range-from-zero",
        space({"space": {"train.lr": {"loguniform": [0, 0.1]}}}),
        ("space.yaml: space.train.lr.loguniform: a log range needs low > 0",),
    ),
    Case(
        "int-log-from-zero",
        space({"space": {"train.batch_size": {"int": [0, 64], "log": True}}}),
        ("space.yaml: space.train.batch_size.int: a log range needs low > 0",),
    ),
    Case(
        "float-int-bounds",
        space({"space": {"train.batch_size": {"int": [16.5, 64]}}}),
        ("space.yaml: space.train.batch_size.int: int bounds must be integers",),
    ),
    Case(
        "when-unknown-param",
        space({"space": {"train.momentum": {"uniform": [0.5, 0.9], "when": {"train.optimiser": ["sgd"]}}}}),
        ("space.yaml: space.train.momentum.when.train.optimiser: a condition must name an earlier parameter",),
    ),
    Case(
        "unknown-fusion",
        space({"space": {"model.fusion.name": {"choice": ["concat", "concatt"]}}}),
        ("space.yaml: model.fusion.name: unknown fusion 'concatt' (did you mean 'concat'?)",),
    ),
    Case(
        "unknown-encoder",
        space({"fixed": {"model": {"audio": {"name": "lstmm"}}}}),
        ("space.yaml: model.audio.name: unknown audio encoder 'lstmm' (did you mean 'lstm'?)",),
    ),
    Case(
        "unknown-encoder-key",
        space({"fixed": {"model": {"audio": {"hiden": 16}}}}),
        ("space.yaml: model.audio.hiden: unknown key (did you mean 'hidden'?)",),
    ),
    # space files: scheduler and resources
    Case(
        "grace-period-above-max-t",
        space({"scheduler": {"grace_period": 10}}),
        ("space.yaml: scheduler: grace_period must be in [1, max_t=4], got 10",),
    ),
    Case(
        "reduction-factor-1",
        space({"scheduler": {"reduction_factor": 1}}),
        ("space.yaml: scheduler: reduction_factor must be >= 2",),
    ),
    Case(
        "unknown-scheduler",
        space({"scheduler": {"name": "pbt"}}),
        ("space.yaml: scheduler.name: got 'pbt'; valid: 'asha', 'hyperband', 'median', 'none'",),
    ),
    Case(
        "zero-workers", space({"resources": {"workers_per_trial": 0}}), ("space.yaml: resources: workers_per_trial must be >= 1",)
    ),
    Case(
        "negative-gpus",
        space({"resources": {"gpus_per_worker": -1}}),
        ("space.yaml: resources: gpus_per_worker must be >= 0 or 'auto'",),
    ),
    Case(
        "group-duplicates-not-a-bool",
        space({"data": {"group_duplicates": "yes"}}),
        ("space.yaml: data.group_duplicates: expected true or false, got 'yes'",),
    ),
    Case(
        "cpus-not-a-number",
        space({"resources": {"cpus_per_worker": "two"}}),
        ("space.yaml: resources.cpus_per_worker: expected a number, got 'two'",),
    ),
    # the command line
    Case(
        "unknown-flag",
        flags(str(SMOKE), "--num-sample", "3"),
        ("python -m search.run: error: unrecognized arguments: --num-sample",),
    ),
    Case("missing-space-argument", flags("--name", "x"), ("the following arguments are required: space",)),
    Case(
        "num-samples-not-a-number",
        flags(str(SMOKE), "--num-samples", "many"),
        ("--num-samples: expected a positive integer, got 'many'",),
    ),
    Case("num-samples-zero", flags(str(SMOKE), "--num-samples", "0"), ("--num-samples: expected a positive integer, got 0",)),
    Case(
        "num-samples-negative", flags(str(SMOKE), "--num-samples", "-3"), ("--num-samples: expected a positive integer, got -3",)
    ),
    Case(
        "metric-unknown",
        flags(str(SMOKE), "--metric", "val_f2"),
        ("argument --metric: invalid choice: 'val_f2' (choose from 'val_f1',",),
    ),
    Case("max-epochs-zero", flags(str(SMOKE), "--max-epochs", "0"), ("--max-epochs: expected a positive integer, got 0",)),
    Case(
        "resume-unknown-name", flags(str(SMOKE), "--resume", "--name", "never-ran"), ("--resume: no experiment at", "never-ran")
    ),
    Case("resume-corrupt-saved-space", experiment("search: [\n", "--resume"), ("results/smoke/space.yaml: invalid YAML",)),
    Case(
        "name-taken-without-resume", experiment(SMOKE.read_text()), ("results/smoke already holds an experiment; add --resume",)
    ),
    Case("results-is-a-file", results_is_a_file, ("cannot write results to", "pick a writable --results folder")),
    # data folders
    Case("data-missing", flags(str(SMOKE), "--data", "nowhere"), ("'nowhere' does not exist",)),
    Case("data-is-a-file", flags(str(SMOKE), "--data", str(SMOKE)), ("smoke.yaml' is not a directory",)),
    Case("data-empty-folder", empty_data_folder, ("no data set found in 'data'", "x_train_wr.npy", "data_wr_train.npy")),
    Case("kaggle-missing-labels", data("kaggle", y_train=None), ("incomplete Kaggle layout", "y_train.npy is missing")),
    Case(
        "kaggle-audio-wrong-width",
        data("kaggle", x_train_sp=np.zeros((N_TRAIN, 500), np.float32)),
        ("data/x_train_sp.npy has shape (60, 500)", "(N, 507)"),
    ),
    Case(
        "zenodo-images-wrong-shape",
        data("zenodo", data_wr_train=IMAGES.reshape(N_TRAIN, 28, 28)[:, :, :27]),
        ("data/data_wr_train.npy has shape (60, 28, 27)", "(N, 784)"),
    ),
    Case(
        "kaggle-images-wrong-dtype", data("kaggle", x_train_wr=IMAGES.astype(str)), ("data/x_train_wr.npy has dtype <U", "uint8")
    ),
    Case(
        "zenodo-audio-wrong-dtype",
        data("zenodo", data_sp_train=AUDIO.astype(np.complex64)),
        ("data/data_sp_train.npy has dtype complex64", "float32"),
    ),
    Case("kaggle-images-scaled-to-1", data("kaggle", x_train_wr=IMAGES / 255.0), ("data/x_train_wr.npy", "multiply by 255")),
    Case(
        "zenodo-lengths-differ",
        data("zenodo", labels_train=np.arange(N_TRAIN - 5) % 10),
        ("mismatched lengths in the train split", "labels_train.npy has 55 rows"),
    ),
    Case("kaggle-audio-nan", data("kaggle", x_train_sp=NAN_AUDIO), ("data/x_train_sp.npy contains 60 NaN/inf values",)),
    Case(
        "zenodo-audio-inf",
        data("zenodo", data_sp_train=np.full((N_TRAIN, 507), np.inf, np.float32)),
        ("data/data_sp_train.npy contains 30420 NaN/inf values",),
    ),
    Case(
        "kaggle-test-audio-nan", data("kaggle", x_test_sp=NAN_AUDIO[:N_TEST]), ("data/x_test_sp.npy contains 20 NaN/inf values",)
    ),
    Case(
        "kaggle-labels-above-9",
        data("kaggle", y_train=np.arange(N_TRAIN)),
        ("data/y_train.npy has 50 labels outside the digits 0-9",),
    ),
    Case(
        "zenodo-labels-negative",
        data("zenodo", labels_train=np.arange(N_TRAIN) % 10 - 1),
        ("data/labels_train.npy has 6 labels outside the digits 0-9", "-1"),
    ),
    Case(
        "kaggle-pickled-labels",
        data("kaggle", y_train=np.array([1, "a", None] * 20, dtype=object)),
        ("data/y_train.npy holds a pickled/object array",),
    ),
    Case("zenodo-truncated", data("zenodo", data_sp_train=npy_bytes(AUDIO)[:1000]), ("data/data_sp_train.npy is truncated",)),
    Case("kaggle-not-npy", data("kaggle", x_train_wr=b"0,0,0,255\n"), ("data/x_train_wr.npy is not a .npy file",)),
    Case("kaggle-npz", data("kaggle", y_train=b"PK\x03\x04"), ("data/y_train.npy is a zip/.npz archive",)),
    Case("zenodo-zero-bytes", data("zenodo", labels_train=b""), ("data/labels_train.npy is empty (0 bytes)",)),
    Case("kaggle-no-rows", data("kaggle", n_train=0), ("data/x_train_wr.npy is empty (0 rows)",)),
    Case("zenodo-no-rows", data("zenodo", n_train=0), ("data/data_wr_train.npy is empty (0 rows)",)),
    Case(
        "class-with-one-sample",
        data("kaggle", n_train=11),
        ("data (Kaggle layout): class 1 has only 1 sample(s)", "add samples of that class"),
    ),
    Case(
        "val-fraction-too-small",
        data("kaggle", n_train=20),
        ("data (Kaggle layout): data.val_fraction=0.2 gives 4 validation samples", "raise data.val_fraction to at least 0.5"),
    ),
    Case(
        "val-fraction-too-large",
        data("zenodo", n_train=20, val_fraction=0.9),
        ("data (Zenodo layout): data.val_fraction=0.9 leaves 2 training samples", "lower data.val_fraction"),
    ),
    Case(
        "class-shares-one-clip",
        data("kaggle", x_train_sp=ONE_CLIP_FOR_DIGIT_3),
        ("data (Kaggle layout): every sample of class 3 shares one audio clip or image", "data.group_duplicates: false"),
    ),
    Case(
        "val-fraction-empties-a-class",
        data("kaggle", n_train=len(SKEWED), val_fraction=0.1, y_train=SKEWED),
        ("data (Kaggle layout): class ", "(2 samples) gets no sample in the validation part", "raise data.val_fraction"),
    ),
    # search.evaluate, search.report, search.retrain: the folder they are given
    Case("evaluate-no-model-folder", flags("nowhere", "--data", "demo"), ("'nowhere' does not exist",), "search.evaluate"),
    Case(
        "report-not-an-experiment",
        flags("."),
        ("not an experiment folder (no space.yaml); give one such as results/fusion",),
        "search.report",
    ),
    Case("retrain-not-an-experiment", flags("."), ("not an experiment folder (no space.yaml)",), "search.retrain"),
    # search.predict
    Case(
        "predict-no-model-folder",
        flags("nowhere", "--data", "demo"),
        ("model folder 'nowhere' does not exist",),
        "search.predict",
    ),
    Case(
        "predict-empty-model-folder",
        predict("empty folder"),
        ("'model' holds no exported model (no model.ts)",),
        "search.predict",
    ),
    Case(
        "predict-corrupt-model",
        predict("not torchscript"),
        ("cannot load model/model.ts", "re-export the model"),
        "search.predict",
    ),
    Case(
        "predict-truncated-model", predict("truncated"), ("cannot load model/model.ts", "re-export the model"), "search.predict"
    ),
    Case("predict-missing-data-flag", flags("model"), ("the following arguments are required: --data",), "search.predict"),
    Case(
        "predict-unknown-flag", predict("good", "kaggle", "--batch", "8"), ("unrecognized arguments: --batch",), "search.predict"
    ),
    Case(
        "predict-batch-size-zero",
        predict("good", "kaggle", "--batch-size", "0"),
        ("--batch-size: expected a positive integer, got 0",),
        "search.predict",
    ),
    Case(
        "predict-no-test-set",
        predict("good", x_test_wr=None, x_test_sp=None, y_test=None),
        ("data: no test set", "add the test files"),
        "search.predict",
    ),
    Case(
        "predict-partial-test-set",
        predict("good", "zenodo", data_sp_test=None),
        ("partial test set in 'data'", "data_sp_test.npy is missing"),
        "search.predict",
    ),
    Case(
        "predict-test-images-wrong-shape",
        predict("good", "zenodo", data_wr_test=IMAGES[:N_TEST, :700]),
        ("data/data_wr_test.npy has shape (20, 700)",),
        "search.predict",
    ),
    Case(
        "predict-test-audio-nan",
        predict("good", x_test_sp=NAN_AUDIO[:N_TEST]),
        ("data/x_test_sp.npy contains 20 NaN/inf",),
        "search.predict",
    ),
    Case(
        "predict-test-labels-above-9",
        predict("good", y_test=np.arange(N_TEST) + 1),
        ("data/y_test.npy has 11 labels outside the digits 0-9",),
        "search.predict",
    ),
    Case(
        "predict-bad-train-file",
        predict("good", "zenodo", labels_train=b"garbage"),
        ("data/labels_train.npy is not a .npy file",),
        "search.predict",
    ),
]
# Valid inputs, run the same way: they show that the checks below do see a start and a written file.
CONTROLS = [
    Case("valid-search", data("kaggle"), ()),
    Case("valid-prediction", predict("good"), (), "search.predict"),
]
ALL = CASES + CONTROLS


# --- running them ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    started: list[str]  # the blocked imports the command attempted
    before: dict[str, Any]  # the case folder's listing before the command
    after: dict[str, Any]


def listing(folder: Path) -> dict[str, Any]:
    """{relative path: (size, mtime)} of everything under ``folder``; a folder's size is None."""
    return {
        str(p.relative_to(folder)): (None if p.is_dir() else p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    base = tmp_path_factory.mktemp("bad_inputs")
    calls = []
    for case in ALL:
        folder = base / case.id
        folder.mkdir()
        calls.append({"module": case.module, "argv": case.build(folder), "cwd": str(folder)})
    before = {case.id: listing(base / case.id) for case in ALL}
    (base / "calls.json").write_text(json.dumps(calls))
    proc = subprocess.run(
        [sys.executable, "-m", __name__, str(base / "calls.json"), str(base / "outcomes.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    ran = json.loads((base / "outcomes.json").read_text())
    return {
        case.id: Outcome(**result, before=before[case.id], after=listing(base / case.id))
        for case, result in zip(ALL, ran, strict=True)
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_line_exit_code_2_and_nothing_happens(case: Case, outcomes: dict[str, Outcome]) -> None:
    out = outcomes[case.id]
    lines = out.stderr.splitlines()
    assert out.code == 2, out.stderr
    assert len(lines) == 1 and lines[0].strip(), out.stderr
    assert lines[0].startswith(("error: ", f"python -m {case.module}: error: ")), lines[0]
    for expected in case.expected:
        assert expected in lines[0]
    assert "Traceback" not in out.stdout + out.stderr
    assert not out.started, f"imported {out.started} before failing"
    assert out.after == out.before, "wrote files before failing"


def test_the_checks_see_a_started_search_and_a_written_submission(outcomes: dict[str, Outcome]) -> None:
    search, prediction = outcomes["valid-search"], outcomes["valid-prediction"]
    assert search.started == [BLOCKED], search.stderr
    assert search.after != search.before  # results/smoke/space.yaml
    assert prediction.code == 0 and not prediction.started, prediction.stderr
    assert set(prediction.after) - set(prediction.before) == {"submission.csv"}


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


# --- the fresh interpreter (``python -m tests.search.test_bad_inputs CALLS.json OUTCOMES.json``) ----------


class ImportBlocker(importlib.abc.MetaPathFinder):
    """Refuses to import ``module`` and its submodules, and records each attempt."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.attempts: list[str] = []

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == self.module or name.startswith(f"{self.module}."):
            self.attempts.append(name)
            raise ModuleNotFoundError(f"{name} is blocked: bad input must be reported before anything starts")


def run_module(module: str, argv: list[str]) -> int:
    """``python -m module argv`` in this interpreter; returns the exit code the process would have."""
    sys.argv = [module, *argv]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught exception
        traceback.print_exc()
        return 1
    return 0


def run_captured(module: str, argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``run_module``, captured at file descriptors 1 and 2, so that what C
    code and the warnings machinery print is caught too."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        saved = [os.dup(1), os.dup(2)]
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            code = run_module(module, argv)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read()


def run_calls(calls_file: str, outcomes_file: str) -> None:
    blocker = ImportBlocker(BLOCKED)
    sys.meta_path.insert(0, blocker)
    results = []
    for call in json.loads(Path(calls_file).read_text()):
        os.chdir(call["cwd"])
        blocker.attempts.clear()
        code, stdout, stderr = run_captured(call["module"], call["argv"])
        results.append({"code": code, "stdout": stdout, "stderr": stderr, "started": list(blocker.attempts)})
    Path(outcomes_file).write_text(json.dumps(results))


if __name__ == "__main__":
    run_calls(*sys.argv[1:])
