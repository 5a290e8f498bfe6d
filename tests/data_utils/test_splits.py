"""Tests for data_utils.splits.train_val_split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from data_utils import DataError, Split, train_val_split


def make_split(labels, unlabelled: bool = False) -> Split:
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    # Row i carries i in its features so parts can be traced back to the source rows.
    images = (np.arange(n)[:, None] % 256 * np.ones((1, 784))).astype(np.uint8)
    audio = (np.arange(n)[:, None] * np.ones((1, 507))).astype(np.float32)
    return Split(images, audio, None if unlabelled else labels)


# Unbalanced classes, like the real data: 40..85 samples per digit.
LABELS = np.repeat(np.arange(10), np.arange(40, 90, 5))


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5, 0.8])
def test_stratified_partition(fraction: float) -> None:
    split = make_split(LABELS)
    train, val = train_val_split(split, fraction, seed=0)
    assert len(train) + len(val) == len(split)
    assert len(val) == math.ceil(fraction * len(split))
    rows_train = train.audio[:, 0].astype(int)
    rows_val = val.audio[:, 0].astype(int)
    # Disjoint, covering, original order kept, rows stay aligned across arrays.
    assert np.intersect1d(rows_train, rows_val).size == 0
    assert np.array_equal(np.sort(np.r_[rows_train, rows_val]), np.arange(len(split)))
    assert np.all(np.diff(rows_train) > 0) and np.all(np.diff(rows_val) > 0)
    np.testing.assert_array_equal(train.labels, LABELS[rows_train])
    np.testing.assert_array_equal(val.images[:, 0], (rows_val % 256).astype(np.uint8))
    # Every class is represented in proportion (within one sample of the ideal).
    expected = np.bincount(LABELS) * fraction
    assert np.all(np.abs(np.bincount(val.labels, minlength=10) - expected) <= 1)
    assert np.all(np.bincount(train.labels, minlength=10) > 0)


def test_deterministic_and_seeded() -> None:
    split = make_split(LABELS)
    a_train, a_val = train_val_split(split, 0.2, seed=3)
    b_train, b_val = train_val_split(split, 0.2, seed=3)
    _, c_val = train_val_split(split, 0.2, seed=4)
    np.testing.assert_array_equal(a_val.audio, b_val.audio)
    np.testing.assert_array_equal(a_train.labels, b_train.labels)
    assert not np.array_equal(a_val.audio, c_val.audio)


def test_accepts_numpy_float_fraction() -> None:
    train, val = train_val_split(make_split(LABELS), np.float32(0.25), seed=0)
    assert len(val) == math.ceil(0.25 * len(LABELS))


def test_unlabelled_is_rejected() -> None:
    with pytest.raises(DataError, match="unlabelled") as err:
        train_val_split(make_split(LABELS, unlabelled=True), 0.2, seed=0)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("fraction", [0, 0.0, 1, 1.0, -0.1, 1.5, float("nan"), True, "0.2", None])
def test_bad_fraction(fraction) -> None:
    with pytest.raises(DataError, match=r"data\.val_fraction must be a number strictly between 0 and 1"):
        train_val_split(make_split(LABELS), fraction, seed=0)


@pytest.mark.parametrize(
    "labels, fraction, needles",
    [
        # A class with a single sample can never be on both sides.
        (np.r_[np.repeat(np.arange(9), 10), [9]], 0.2, ["class 9", "only 1 sample", "add samples"]),
        # Too few validation samples to hold one per class.
        (np.repeat(np.arange(10), 100), 0.005, ["5 validation samples", "raise data.val_fraction"]),
        # Too few training samples to hold one per class.
        (np.repeat(np.arange(10), 100), 0.995, ["5 training samples", "lower data.val_fraction"]),
        # Proportional rounding leaves the rare class out of validation...
        (
            np.r_[np.repeat(np.arange(9), 100), [9, 9]],
            0.02,
            ["class 9", "no sample in the validation part", "raise data.val_fraction"],
        ),
        # ...or out of training.
        (
            np.r_[np.repeat(np.arange(9), 100), [9, 9]],
            0.95,
            ["class 9", "no sample in the train part", "lower data.val_fraction"],
        ),
    ],
    ids=["singleton", "val-too-small", "train-too-small", "class-missing-in-val", "class-missing-in-train"],
)
def test_infeasible_splits(labels, fraction: float, needles: list[str]) -> None:
    with pytest.raises(DataError) as err:
        train_val_split(make_split(labels), fraction, seed=0)
    msg = str(err.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, msg
