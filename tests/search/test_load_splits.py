"""The search's train/validation split of a data folder: samples sharing an audio clip stay together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from data_utils import Split
from search.api import load_splits
from search.space.spec import load_spec
from tests.helpers import SHARED_DATA

SMOKE = Path(__file__).resolve().parents[2] / "spaces" / "smoke.yaml"


def clips_on_both_sides(train: Split, val: Split) -> int:
    return len(set(map(bytes, train.audio)) & set(map(bytes, val.audio)))


def kaggle_folder(folder: Path, copies: int) -> Path:
    """200 samples whose audio repeats: each clip is paired with ``copies`` images of its digit."""
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    clips = rng.standard_normal((200 // copies, 507)).astype(np.float32)
    clip_of = (np.arange(200) // 10 // copies) * 10 + labels  # sample i: digit i % 10, clip of that digit
    folder.mkdir()
    np.save(folder / "x_train_wr.npy", rng.integers(0, 256, (200, 784), dtype=np.uint8))
    np.save(folder / "x_train_sp.npy", clips[clip_of])
    np.save(folder / "y_train.npy", labels)
    return folder


@pytest.mark.parametrize("group", [True, False])
def test_the_search_keeps_shared_clips_on_one_side_unless_told_not_to(tmp_path: Path, capsys, group: bool) -> None:
    data = kaggle_folder(tmp_path / "data", copies=4)
    splits = load_splits(load_spec(SMOKE, {"data.source": str(data), "data.group_duplicates": group}))
    shared = clips_on_both_sides(splits["train"], splits["val"])
    assert len(splits["train"]) + len(splits["val"]) == 200
    out = capsys.readouterr().out
    if group:
        assert shared == 0
        assert "the 200 training samples form 50 groups sharing an audio clip or an image" in out
    else:
        assert shared > 0
        assert "groups sharing" not in out


def test_no_recording_of_the_real_data_is_on_both_sides_of_the_split() -> None:
    if not (SHARED_DATA / "x_train_wr.npy").is_file():
        pytest.skip(f"no real data at {SHARED_DATA}")
    splits = load_splits(load_spec(SMOKE, {"data.source": str(SHARED_DATA)}))
    assert clips_on_both_sides(splits["train"], splits["val"]) == 0
    # and, as on the test set, validation then holds recordings training never saw
    assert clips_on_both_sides(splits["train"], splits["test"]) == 0
