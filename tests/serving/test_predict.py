"""``python -m search.predict``: the submission, the printed test metrics, and one-line errors."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import torch

from search.predict import main
from tests.helpers import save_kaggle
from training.trainer import evaluate, to_device


@pytest.fixture(scope="module")
def exported(small_export):
    """(exported model folder, Kaggle data folder, in-process test metrics of the original model)."""
    dataset, result = small_export["dataset"], small_export["result"]
    expected = evaluate(result.model, result.preprocessor, to_device(dataset.test, result.preprocessor, torch.device("cpu")))
    return small_export["model_dir"], small_export["kaggle"], expected, dataset


def read_submission(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_writes_the_submission_and_prints_the_test_metrics(exported, tmp_path, capsys):
    model_dir, data, expected, dataset = exported
    out = tmp_path / "sub" / "predictions.csv"
    assert main([str(model_dir), "--data", str(data), "--out", str(out)]) == 0
    rows = read_submission(out)
    assert rows[0] == ["row_id", "label"]
    assert len(rows) == 1 + len(dataset.test)
    assert [int(r[0]) for r in rows[1:]] == list(range(len(dataset.test)))
    assert [int(r[1]) for r in rows[1:]] == expected["predictions"].tolist()

    printed = capsys.readouterr().out
    assert f"wrote {len(dataset.test)} predictions to {out}" in printed
    match = re.search(r"test accuracy: (\S+)  macro F1: (\S+)", printed)
    assert match, printed
    assert match.group(1) == f"{expected['accuracy']:.4f}"
    assert match.group(2) == f"{expected['f1']:.4f}"


def test_default_out_is_submission_csv_and_batch_size_does_not_change_it(exported, tmp_path, monkeypatch):
    model_dir, data, _, _ = exported
    monkeypatch.chdir(tmp_path)
    assert main([str(model_dir), "--data", str(data)]) == 0
    assert main([str(model_dir), "--data", str(data), "--out", "small.csv", "--batch-size", "7"]) == 0
    assert (tmp_path / "submission.csv").read_text() == (tmp_path / "small.csv").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.csv", "submission.csv"]  # no temp file left


def test_unlabelled_test_set_gets_a_submission_and_no_metrics(exported, tmp_path, capsys):
    model_dir, _, expected, dataset = exported
    data = save_kaggle(tmp_path / "unlabelled", dataset, test_labels=False)
    assert main([str(model_dir), "--data", str(data), "--out", str(tmp_path / "s.csv")]) == 0
    assert [int(r[1]) for r in read_submission(tmp_path / "s.csv")[1:]] == expected["predictions"].tolist()
    assert "accuracy" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "case, message",
    [
        ("no model folder", "model folder .* does not exist"),
        ("folder without model.ts", r"holds no exported model \(no model.ts\)"),
        ("no data folder", "data directory .* does not exist"),
        ("no test set", r"no test set \(expected x_test_wr.npy \+ x_test_sp.npy"),
        ("unwritable --out", "cannot write .*: Is a directory; pick a writable --out path"),
    ],
)
def test_bad_inputs_get_one_line_and_exit_code_2(case, message, exported, tmp_path, capsys):
    model_dir, data, _, dataset = exported
    args = {"model": str(model_dir), "data": str(data), "out": str(tmp_path / "s.csv")}
    if case == "no model folder":
        args["model"] = str(tmp_path / "missing")
    elif case == "folder without model.ts":
        args["model"] = str(data)
    elif case == "no data folder":
        args["data"] = str(tmp_path / "missing")
    elif case == "no test set":
        args["data"] = str(save_kaggle(tmp_path / "train_only", dataset, test=False))
    elif case == "unwritable --out":
        args["out"] = str(tmp_path)
    assert main([args["model"], "--data", args["data"], "--out", args["out"]]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / "s.csv").exists()


def test_a_bad_batch_size_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--data", "demo", "--batch-size", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--batch-size: expected a positive integer, got 0" in err
