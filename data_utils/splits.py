"""Stratified, seeded train/validation splitting, optionally keeping groups of samples on one side.

The real data reuses recordings: Kaggle's and Zenodo's sets pair each of about 3,000 Free Spoken Digit
recordings with several images, and their test sets hold recordings that no training sample has. A
plain random split puts copies of one clip in both parts, so validation rewards remembering clips and
picks models that do worse on the test set; :func:`duplicate_groups` finds the samples that must stay
together.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .dataset import Split
from .errors import DataError

__all__ = ["duplicate_groups", "train_val_split"]


def duplicate_groups(split: Split) -> np.ndarray:
    """Group id of every sample: samples that share an audio clip or an image (byte for byte), directly
    or through a chain of others, get the same id; ids are ``0..G-1``."""
    # Lazy import, as for scikit-learn below.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(split)
    # A graph of samples, distinct clips and distinct images; each sample is joined to its clip and image.
    clips = _row_ids(split.audio)
    images = _row_ids(split.images)
    rows = np.r_[np.arange(n), np.arange(n)]
    cols = np.r_[n + clips, n + clips.max() + 1 + images]
    size = n + clips.max() + 1 + images.max() + 1
    graph = coo_matrix((np.ones(2 * n, dtype=np.int8), (rows, cols)), shape=(size, size))
    # every clip and image node hangs on a sample, so the samples' components are numbered 0..G-1 already
    return connected_components(graph, directed=False)[1][:n]


def _row_ids(rows: np.ndarray) -> np.ndarray:
    """Id of every row, equal ids for byte-identical rows."""
    rows = np.ascontiguousarray(rows)
    as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    return np.unique(as_bytes, return_inverse=True)[1].ravel()


def train_val_split(
    split: Split,
    val_fraction: float,
    seed: int,
    groups: np.ndarray | None = None,
) -> tuple[Split, Split]:
    """Split ``split`` into stratified train and validation parts.

    The same inputs always give the same parts, so every trial of a search
    (on any Ray worker) sees the same validation set and scores are comparable.

    Args:
        split: Labelled data to split.
        val_fraction: Fraction of the samples that goes to validation,
            strictly between 0 and 1 (rounded up to whole samples; with groups,
            each class's share is met as closely as whole groups allow).
        seed: Seed of the shuffle.
        groups: Optional group id per sample (e.g. :func:`duplicate_groups`);
            a group never spans both parts.

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
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real) or not 0.0 < float(val_fraction) < 1.0:
        raise DataError(f"data.val_fraction must be a number strictly between 0 and 1, got {val_fraction!r}; set it to e.g. 0.2")
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

    if groups is not None and len(np.unique(groups)) < n:
        one_group = [c for c in classes if len(np.unique(groups[labels == c])) < 2]
        if one_group:
            c = int(one_group[0])
            raise DataError(
                f"every sample of class {c} shares one audio clip or image, so the class cannot appear in "
                "both the train and validation parts; add samples of that class or set "
                "data.group_duplicates: false"
            )
        in_val = _grouped_validation(labels, groups, val_fraction, seed)
        train_idx, val_idx = np.flatnonzero(~in_val), np.flatnonzero(in_val)
    else:
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


def _grouped_validation(labels: np.ndarray, groups: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """Mask of the validation samples: whole groups, in seeded random order, each class filled up to its
    share (a group counts for the class of its first sample; a group joins when that brings the class's
    count closer to its share, so small groups fill what large ones leave)."""
    rng = np.random.default_rng(seed)
    _, first, groups = np.unique(groups, return_index=True, return_inverse=True)
    groups = groups.ravel()
    sizes = np.bincount(groups)
    chosen = []
    for c in np.unique(labels):
        share = val_fraction * np.count_nonzero(labels == c)
        taken = 0
        for g in rng.permutation(np.flatnonzero(labels[first] == c)):
            if abs(taken + sizes[g] - share) < abs(taken - share):
                chosen.append(g)
                taken += sizes[g]
    return np.isin(groups, chosen)


def stratified_folds(labels: np.ndarray, k: int, seed: int, groups: np.ndarray | None = None) -> list[np.ndarray]:
    """The held-out indices of each of ``k`` cross-validation folds, stratified by label and, like the
    validation split, keeping each group (samples sharing a clip or an image) inside one fold.

    Raises:
        DataError: k < 2, or fewer groups of some class than folds (a fold would miss that class).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.arange(len(labels)) if groups is None else groups
    if k < 2:
        raise DataError(f"retrain.cv_folds must be >= 2 folds, got {k}")
    for c in np.unique(labels):
        n = len(np.unique(groups[labels == c]))
        if n < k:
            raise DataError(
                f"class {int(c)} has {n} distinct sample group(s), fewer than retrain.cv_folds={k}: "
                "every fold needs one; lower cv_folds"
            )
    folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels, groups)
    return [np.sort(held_out) for _, held_out in folds]
