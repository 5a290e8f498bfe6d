"""Stratified, seeded train/validation splitting."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import DataError
from .loaders import Split

__all__ = ["train_val_split"]


def train_val_split(split: Split, val_fraction: float, seed: int) -> tuple[Split, Split]:
    """Split ``split`` into stratified train and validation parts.

    The same inputs always give the same parts, so every trial of a search
    (on any Ray worker) sees the same validation set and scores are comparable.

    Args:
        split: Labelled data to split.
        val_fraction: Fraction of the samples that goes to validation,
            strictly between 0 and 1 (rounded up to whole samples).
        seed: Seed of the shuffle.

    Returns:
        ``(train, val)``, each keeping the original row order, with every class
        of ``split`` present in both.

    Raises:
        DataError: If the split is unlabelled, ``val_fraction`` is not in
            (0, 1), or some class would end up missing from one of the parts.
    """
    if split.labels is None:
        raise DataError(
            "cannot make a stratified train/validation split of unlabelled data; "
            "use a labelled training set (the labels file, e.g. y_train.npy, is required)"
        )
    if (
        isinstance(val_fraction, bool)
        or not isinstance(val_fraction, numbers.Real)
        or not 0.0 < float(val_fraction) < 1.0
    ):
        raise DataError(
            f"data.val_fraction must be a number strictly between 0 and 1, got {val_fraction!r}; "
            "set it to e.g. 0.2"
        )
    val_fraction = float(val_fraction)

    labels = split.labels
    n = len(labels)
    classes, counts = np.unique(labels, return_counts=True)
    n_classes = len(classes)
    # sklearn raises its own (less actionable) errors for these cases, so catch
    # them first and say which knob to turn.
    singletons = classes[counts < 2]
    if singletons.size:
        c = int(singletons[0])
        raise DataError(
            f"class {c} has only {int(counts[classes == c][0])} sample(s), so it cannot appear in "
            "both the train and validation parts; add samples of that class"
        )
    n_val = math.ceil(val_fraction * n)
    n_train = n - n_val
    if n_val < n_classes:
        raise DataError(
            f"data.val_fraction={val_fraction:g} gives {n_val} validation samples for {n_classes} "
            f"classes; raise data.val_fraction to at least {n_classes / n:.3g}"
        )
    if n_train < n_classes:
        raise DataError(
            f"data.val_fraction={val_fraction:g} leaves {n_train} training samples for {n_classes} "
            f"classes; lower data.val_fraction to at most {1 - n_classes / n:.3g}"
        )

    # Lazy import keeps `import data_utils` light (scikit-learn is slow to import).
    from sklearn.model_selection import StratifiedShuffleSplit

    splitter = StratifiedShuffleSplit(n_splits=1, test_size=val_fraction, random_state=seed)
    train_idx, val_idx = next(splitter.split(np.zeros(n), labels))
    # Sorting keeps the original row order, which makes parts easy to compare
    # with the source data and costs nothing for training (loaders shuffle).
    train_idx = np.sort(train_idx)
    val_idx = np.sort(val_idx)

    # Proportional allocation can still round a small class down to zero in
    # one part; such a class could never be validated (or learned), so refuse.
    for part_idx, part, fix in (
        (val_idx, "validation", "raise data.val_fraction"),
        (train_idx, "train", "lower data.val_fraction"),
    ):
        missing = np.setdiff1d(classes, labels[part_idx])
        if missing.size:
            c = int(missing[0])
            raise DataError(
                f"class {c} ({int(counts[classes == c][0])} samples) gets no sample in the {part} "
                f"part with data.val_fraction={val_fraction:g}; {fix} or add samples of class {c}"
            )
    return split.subset(train_idx), split.subset(val_idx)
