"""Tests for data_utils.splits.train_val_split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from data_utils import DataError, Split, duplicate_groups, train_val_split


def make_split(labels, unlabelled: bool = False) -> Split:
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    # Row i carries i in its features so parts can be traced back to the source rows.
    images = (np.arange(n)[:, None] % 256 * np.ones((1, 784))).astype(np.uint8)
    images[:, 1] = np.arange(n) // 256  # no two images alike
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


def with_shared_clips(labels: np.ndarray, copies: int) -> tuple[Split, np.ndarray]:
    """``make_split`` whose audio repeats: ``copies`` consecutive samples of a class share one clip, as the
    real data pairs one recording with several images. Returns the split and each sample's clip number."""
    split = make_split(labels)
    clip = np.arange(len(labels)) // copies
    clip += np.cumsum(np.r_[0, np.diff(labels) != 0])  # a clip never spans two classes
    audio = (clip[:, None] * np.ones((1, 507))).astype(np.float32)
    return Split(split.images, audio, split.labels), clip


def test_duplicate_groups_joins_shared_clips_and_images_transitively() -> None:
    split = make_split(np.zeros(6, dtype=np.int64))
    audio, images = split.audio.copy(), split.images.copy()
    audio[1] = audio[0]  # 0 and 1 share a clip
    images[2] = images[1]  # 1 and 2 share an image: 0, 1, 2 belong together
    audio[5] = audio[4]  # 4 and 5 share a clip
    groups = duplicate_groups(Split(images, audio, split.labels))
    assert groups[0] == groups[1] == groups[2]
    assert groups[4] == groups[5]
    assert len({groups[0], groups[3], groups[4]}) == 3
    assert sorted(set(groups.tolist())) == [0, 1, 2]


def test_duplicate_groups_of_distinct_samples_are_all_different() -> None:
    groups = duplicate_groups(make_split(LABELS))
    assert len(np.unique(groups)) == len(LABELS)


@pytest.mark.parametrize("copies", [2, 3, 7])
def test_grouped_split_keeps_every_clip_on_one_side(copies: int) -> None:
    split, clip = with_shared_clips(LABELS, copies)
    groups = duplicate_groups(split)
    train, val = train_val_split(split, 0.2, seed=0, groups=groups)
    train_clips, val_clips = set(train.audio[:, 0].tolist()), set(val.audio[:, 0].tolist())
    assert train_clips and val_clips and not train_clips & val_clips
    assert len(train) + len(val) == len(split)
    # each class's share is met as closely as whole clips allow
    share = np.bincount(LABELS) * 0.2
    assert np.all(np.abs(np.bincount(val.labels, minlength=10) - share) <= copies)
    # the plain split (no groups) does put copies of a clip on both sides
    plain_train, plain_val = train_val_split(split, 0.2, seed=0)
    assert set(plain_train.audio[:, 0].tolist()) & set(plain_val.audio[:, 0].tolist())


def test_grouped_split_is_seeded() -> None:
    split, _ = with_shared_clips(LABELS, 3)
    groups = duplicate_groups(split)
    a = train_val_split(split, 0.2, seed=1, groups=groups)[1]
    b = train_val_split(split, 0.2, seed=1, groups=groups)[1]
    c = train_val_split(split, 0.2, seed=2, groups=groups)[1]
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.array_equal(a.audio, c.audio)


def test_groups_without_duplicates_split_exactly_as_without_groups() -> None:
    split = make_split(LABELS)
    grouped = train_val_split(split, 0.2, seed=0, groups=duplicate_groups(split))[1]
    np.testing.assert_array_equal(grouped.audio, train_val_split(split, 0.2, seed=0)[1].audio)


def test_a_class_with_one_shared_clip_cannot_be_split() -> None:
    labels = np.r_[np.repeat(np.arange(9), 10), [9, 9, 9]]
    split, _ = with_shared_clips(labels, 5)  # class 9's three samples share one clip
    with pytest.raises(DataError) as err:
        train_val_split(split, 0.2, seed=0, groups=duplicate_groups(split))
    msg = str(err.value)
    assert "\n" not in msg
    assert "class 9" in msg and "data.group_duplicates: false" in msg


def test_cross_validation_folds_are_stratified_and_keep_groups_whole() -> None:
    from data_utils.splits import stratified_folds

    groups = np.arange(300) // 3  # three samples per group
    labels = groups % 10  # ... of one class: ten groups per class
    folds = stratified_folds(labels, 3, seed=0, groups=groups)
    assert len(folds) == 3
    assert np.array_equal(np.sort(np.concatenate(folds)), np.arange(300))  # a partition of the samples
    for held_out in folds:
        assert set(labels[held_out]) == set(range(10))  # every class in every fold
        assert 80 <= len(held_out) <= 120
        inside = np.isin(groups, groups[held_out])
        assert np.array_equal(np.flatnonzero(inside), held_out)  # no group crosses a fold's border
    assert all(np.array_equal(a, b) for a, b in zip(folds, stratified_folds(labels, 3, seed=0, groups=groups)))


def test_cross_validation_needs_as_many_groups_of_each_class_as_folds() -> None:
    from data_utils.splits import stratified_folds

    labels = np.array([0] * 6 + [1] * 6)
    with pytest.raises(DataError, match="class 1 has 2 distinct sample group"):
        stratified_folds(labels, 3, seed=0, groups=np.array([0, 1, 2, 3, 4, 5, 6, 6, 6, 7, 7, 7]))
    with pytest.raises(DataError, match="cv_folds must be >= 2"):
        stratified_folds(labels, 1, seed=0)
