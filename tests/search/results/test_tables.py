"""The Markdown tables' rows: the columns a person reads, only the hyperparameters that differ, short names."""

from __future__ import annotations

import pandas as pd

from search.results.tables import readable, short_names


def test_readable_keeps_what_differs_among_the_rows_shown_under_short_names():
    table = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "trial_id": ["a", "b", "c"],
            "status": ["completed", "stopped early at epoch 3", "failed"],
            "val_f1": [0.91234, 0.8, float("nan")],
            "val_robust_f1": [0.7, 0.6, float("nan")],
            "best_epoch": pd.array([9, 2, pd.NA], dtype="Int64"),
            "epochs": pd.array([9, 3, 0], dtype="Int64"),
            "params": pd.array([1234567, 23456, pd.NA], dtype="Int64"),
            "train_seconds": [12.34, 3.0, float("nan")],
            "error": [None, None, "boom"],
            "checkpoint": ["/x", "/y", None],
            "hp.model.image.name": ["cnn", "mlp", "cnn"],
            "hp.model.image.channels": ["[16, 32]", "[]", "[64]"],
            "hp.model.audio.channels": ["[8]", "[8]", "[8]"],  # the same in every row: not shown
            "hp.train.lr": [0.001, 0.01, 0.001],
        }
    )
    out = readable(table, "val_robust_f1")
    assert list(out.columns) == [
        "rank",
        "trial",
        "status",
        "val_robust_f1",
        "val_f1",
        "epochs (best)",
        "params",
        "time",
        "image",
        "image.channels",
        "lr",
    ]
    assert out.iloc[0].tolist() == ["1", "a", "completed", "0.7", "0.9123", "9 (9)", "1.23M", "12.3 s", "cnn", "16,32", "0.001"]
    assert out.iloc[1].tolist()[2:] == ["stopped @3", "0.6", "0.8", "3 (2)", "23.5k", "3.0 s", "mlp", "-", "0.01"]
    assert out.iloc[2].tolist()[2:8] == ["failed", "", "", "0", "", ""]
    # only the rows shown count: among the first two, lr and channels differ, among these two nothing does
    assert "lr" not in readable(table.iloc[[0, 2]], "val_f1").columns


def test_short_names_are_the_shortest_unique_tails():
    keys = ["model.image.name", "model.audio.channels", "model.image.channels", "train.lr", "augment.audio_noise"]
    assert short_names(keys) == {
        "model.image.name": "image",
        "model.audio.channels": "audio.channels",
        "model.image.channels": "image.channels",
        "train.lr": "lr",
        "augment.audio_noise": "audio_noise",
    }


def test_retrained_configs_show_mean_and_std_in_one_cell():
    from search.results.leaderboard import retrained_table
    from search.results.tables import readable_retrained

    summary = {
        "evaluated_on": "test",
        "configs": [
            {
                "source": "a",
                "variant": "fused",
                "seeds": 3,
                "f1_mean": 0.99123,
                "f1_std": 0.0021,
                "accuracy_mean": 0.99,
                "accuracy_std": 0.002,
            }
        ],
    }
    out = readable_retrained(retrained_table(summary))
    assert out.to_dict("records") == [
        {"trial": "a", "status": "retrained fused, 3 seed(s)", "macro F1": "0.9912 ± 0.0021", "accuracy": "0.9900 ± 0.0020"}
    ]
