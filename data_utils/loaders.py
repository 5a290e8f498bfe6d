"""Loading and validating the "written and spoken digits" data set.

Two on-disk layouts are supported (detected automatically):

* Kaggle: ``x_train_wr.npy``, ``x_train_sp.npy``, ``y_train.npy`` and optionally
  ``x_test_wr.npy`` + ``x_test_sp.npy`` (+ optional ``y_test.npy``).
* Zenodo: ``data_wr_train.npy``, ``data_sp_train.npy``, ``labels_train.npy`` and
  optionally ``data_wr_test.npy`` + ``data_sp_test.npy`` (+ optional
  ``labels_test.npy``).

Everything here is numpy-only on purpose: this module is imported by the CLI
and by every Ray worker, so it must not drag in torch or scikit-learn.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from common.constants import AUDIO_COEFFS, AUDIO_FEATURES, AUDIO_FRAMES, IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES

from .dataset import Dataset, Split
from .demo import make_demo_dataset
from .errors import DataError

__all__ = [
    "Dataset",
    "Split",
    "load_dataset",
]

# How many offending values to quote in an error message: enough to see the
# pattern, few enough to keep the message on one readable line.
_MAX_QUOTED = 5

_NPY_MAGIC = b"\x93NUMPY"


class _Layout(NamedTuple):
    name: str
    train: tuple[str, str, str]  # images, audio, labels
    test: tuple[str, str, str]  # images, audio, labels (labels optional)


_LAYOUTS: tuple[_Layout, ...] = (
    # Kaggle first: when both layouts are present it is the one we prefer.
    _Layout(
        "Kaggle",
        ("x_train_wr.npy", "x_train_sp.npy", "y_train.npy"),
        ("x_test_wr.npy", "x_test_sp.npy", "y_test.npy"),
    ),
    _Layout(
        "Zenodo",
        ("data_wr_train.npy", "data_sp_train.npy", "labels_train.npy"),
        ("data_wr_test.npy", "data_sp_test.npy", "labels_test.npy"),
    ),
)


def load_dataset(source: str | os.PathLike, *, seed: int = 0) -> Dataset:
    """Load the built-in demo data set or a directory of ``.npy`` files.

    ``'demo'`` -> built-in demo dataset; otherwise a directory in Kaggle or
    Zenodo layout, detected automatically. The literal string ``"demo"`` wins
    over a directory of that name; pass ``"./demo"`` to load such a directory.

    Args:
        source: ``"demo"`` or the path of a data directory.
        seed: Seed of the demo data set (its synthetic audio and test split);
            ignored for directories, whose content is fixed.

    Returns:
        The validated Dataset: images ``(N, 784)`` uint8, audio ``(N, 507)``
        float32, labels ``(N,)`` int64 in 0..9 (test labels may be None).

    Raises:
        DataError: If the directory is missing, has no recognised layout, or
            any file is unreadable or fails validation. The message is a single
            line naming the file and how to fix it.
    """
    if isinstance(source, str) and source.strip().lower() == "demo":
        # Imported lazily: the demo pulls in scikit-learn, which is slow to
        # import and not needed for real data.
        return make_demo_dataset(seed=seed)

    directory = Path(source).expanduser()
    if not directory.exists():
        raise DataError(
            f"data directory {str(directory)!r} does not exist; pass an existing directory "
            "with the Kaggle or Zenodo .npy files, or 'demo' for the built-in demo data"
        )
    if not directory.is_dir():
        raise DataError(
            f"data source {str(directory)!r} is not a directory; pass the directory that "
            "contains the .npy files (not a file inside it), or 'demo'"
        )

    layout, also_present = _detect_layout(directory)
    train = _load_split(directory, layout.train, "train", labels_required=True)
    test = _load_test_split(directory, layout)

    source_text = f"{directory} ({layout.name} layout"
    if also_present:
        source_text += f"; {also_present} files also present, ignored"
    source_text += ")"
    return Dataset(train=train, test=test, source=source_text, synthetic_audio=False)


def _describe(layout: _Layout) -> str:
    return f"{layout.name} layout ({', '.join(layout.train)} [+ {', '.join(layout.test)}])"


def _detect_layout(directory: Path) -> tuple[_Layout, str | None]:
    """Pick the layout whose train files are all present.

    Returns the chosen layout and the name of another complete layout that was
    ignored (so ``source`` can say so), if any.
    """
    complete = [lay for lay in _LAYOUTS if all((directory / f).exists() for f in lay.train)]
    if complete:
        ignored = complete[1].name if len(complete) > 1 else None
        return complete[0], ignored

    # A half-copied layout deserves a pointed message ("missing y_train.npy")
    # rather than the generic "nothing found".
    for lay in _LAYOUTS:
        present = [f for f in lay.train if (directory / f).exists()]
        if present:
            missing = [f for f in lay.train if f not in present]
            raise DataError(
                f"incomplete {lay.name} layout in {str(directory)!r}: found {', '.join(present)} "
                f"but {', '.join(missing)} is missing; copy the missing file(s) into the directory"
            )
    raise DataError(
        f"no data set found in {str(directory)!r}: expected the "
        + " or the ".join(_describe(lay) for lay in _LAYOUTS)
        + "; point the data source at such a directory or use 'demo'"
    )


def _load_test_split(directory: Path, layout: _Layout) -> Split | None:
    wr, sp, lab = layout.test
    present = {f: (directory / f).exists() for f in layout.test}
    if not any(present.values()):
        return None
    if not (present[wr] and present[sp]):
        # Labels alone, or one modality alone, cannot form a test set; silently
        # dropping it would hide a broken copy of the data.
        found = [f for f in layout.test if present[f]]
        missing = [f for f in (wr, sp) if not present[f]]
        raise DataError(
            f"partial test set in {str(directory)!r}: found {', '.join(found)} but "
            f"{', '.join(missing)} is missing; add the missing file(s) or remove the test files"
        )
    return _load_split(directory, layout.test, "test", labels_required=False)


def _load_split(directory: Path, names: tuple[str, str, str], split_name: str, *, labels_required: bool) -> Split:
    wr_name, sp_name, lab_name = names
    # Messages name the path, as _load_npy's do: the user may have several copies of the data.
    images = _validate_images(_load_npy(directory / wr_name), str(directory / wr_name))
    audio = _validate_audio(_load_npy(directory / sp_name), str(directory / sp_name))
    labels = None
    if labels_required or (directory / lab_name).exists():
        labels = _validate_labels(_load_npy(directory / lab_name), str(directory / lab_name))

    lengths = {wr_name: len(images), sp_name: len(audio)}
    if labels is not None:
        lengths[lab_name] = len(labels)
    if len(set(lengths.values())) != 1:
        detail = ", ".join(f"{name} has {n} rows" for name, n in lengths.items())
        raise DataError(
            f"mismatched lengths in the {split_name} split of {str(directory)!r}: {detail}; "
            "every file of a split must hold one row per sample, in the same order"
        )
    # Feature shapes of train and test always agree here because both were
    # normalised to (N, 784) / (N, 507) above; no separate check is needed.
    return Split(images=images, audio=audio, labels=labels)


def _load_npy(path: Path) -> np.ndarray:
    """Read one ``.npy`` file safely, turning every failure into DataError."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise DataError(f"cannot read {name}: {exc.strerror or exc}; check that it is a readable file") from exc

    # Checking the magic ourselves gives a clearer message than np.load, which
    # would report arbitrary non-npy files as "pickled data".
    if head != _NPY_MAGIC:
        if not head:
            what = "is empty (0 bytes)"
        elif head.startswith(b"PK"):
            what = "is a zip/.npz archive, not a single .npy array"
        else:
            what = "is not a .npy file (no NUMPY header)"
        raise DataError(f"{name} {what}; re-save the array with numpy.save(path, array)")

    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        msg = str(exc)
        if "allow_pickle" in msg or "pickled" in msg:
            # Never unpickle: a data file must not be able to run code.
            raise DataError(
                f"{name} holds a pickled/object array, which is not loaded for safety; "
                "re-save it with a numeric dtype, e.g. numpy.save(path, x.astype(numpy.float32))"
            ) from exc
        raise DataError(f"{name} is truncated or corrupt ({msg}); re-copy or re-save the file") from exc
    except (EOFError, OSError) as exc:
        raise DataError(f"{name} is truncated or unreadable ({exc}); re-copy or re-save the file") from exc
    if not isinstance(array, np.ndarray):  # pragma: no cover - np.load of a .npy is an ndarray
        raise DataError(f"{name} did not contain a numpy array; re-save it with numpy.save")
    return array


def _check_rows(array: np.ndarray, name: str) -> None:
    if array.ndim == 0:
        raise DataError(f"{name} holds a single scalar, expected one row per sample; re-save the full array")
    if array.shape[0] == 0:
        raise DataError(f"{name} is empty (0 rows); re-export it with the samples in it")


def _quote(values: np.ndarray) -> str:
    """Format a few distinct offending values for an error message."""
    uniq = np.unique(values.ravel())
    shown = ", ".join(repr(v.item()) for v in uniq[:_MAX_QUOTED])
    return shown + (", ..." if uniq.size > _MAX_QUOTED else "")


def _validate_images(array: np.ndarray, name: str) -> np.ndarray:
    _check_rows(array, name)
    n = array.shape[0]
    if array.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
        array = array.reshape(n, IMAGE_PIXELS)
    elif array.shape[1:] != (IMAGE_PIXELS,):
        raise DataError(
            f"{name} has shape {array.shape}, expected images of shape (N, {IMAGE_PIXELS}) "
            f"or (N, {IMAGE_SIDE}, {IMAGE_SIDE}); re-save the images in one of those shapes"
        )

    expected = "expected uint8 pixel values 0-255 (MNIST scale)"
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "iuf":
        raise DataError(
            f"{name} has dtype {array.dtype}, {expected}; convert it with "
            "numpy.save(path, x.astype(numpy.uint8)) if the values are already 0-255"
        )

    bad = (array < 0) | (array > 255)
    if array.dtype.kind == "f":
        # NaN compares False everywhere, so it must be flagged explicitly.
        bad |= ~np.isfinite(array) | (array != np.round(array))
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        hint = ""
        if array.dtype.kind == "f" and np.all(np.isfinite(array)) and array.min() >= 0 and array.max() <= 1:
            hint = " (the values look scaled to 0-1: multiply by 255 and round)"
        raise DataError(
            f"{name} has {n_bad} pixel values that are not whole numbers in 0-255 "
            f"(e.g. {_quote(array[bad])}), {expected}{hint}; "
            "re-save it as numpy.uint8 in 0-255"
        )
    return array.astype(np.uint8)


def _validate_audio(array: np.ndarray, name: str) -> np.ndarray:
    _check_rows(array, name)
    n = array.shape[0]
    if array.shape[1:] == (AUDIO_FRAMES, AUDIO_COEFFS):
        # C-order reshape of (frames, coeffs) is exactly the frame-major layout.
        array = array.reshape(n, AUDIO_FEATURES)
    elif array.shape[1:] != (AUDIO_FEATURES,):
        hint = ""
        if array.shape[1:] == (AUDIO_COEFFS, AUDIO_FRAMES):
            hint = " (looks coefficient-major: transpose to (N, 39, 13) first)"
        raise DataError(
            f"{name} has shape {array.shape}, expected audio features of shape "
            f"(N, {AUDIO_FEATURES}) or (N, {AUDIO_FRAMES}, {AUDIO_COEFFS}){hint}; "
            "re-save the MFCC features in one of those shapes"
        )
    if array.dtype.kind not in "iuf":
        raise DataError(f"{name} has dtype {array.dtype}, expected real numeric MFCC features; re-save them as numpy.float32")
    finite_before = array.dtype.kind != "f" or bool(np.all(np.isfinite(array)))
    # Overflow to inf is detected and reported just below, so numpy's warning
    # would only be noise.
    with np.errstate(over="ignore"):
        audio = array.astype(np.float32)
    n_bad = int(np.count_nonzero(~np.isfinite(audio)))
    if n_bad:
        what = "NaN/inf values" if not finite_before else "values too large for float32"
        raise DataError(
            f"{name} contains {n_bad} {what}; clean or impute them (e.g. numpy.nan_to_num) and re-save the audio features"
        )
    return audio


def _validate_labels(array: np.ndarray, name: str) -> np.ndarray:
    _check_rows(array, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.reshape(-1)
    elif array.ndim != 1:
        raise DataError(
            f"{name} has shape {array.shape}, expected labels of shape (N,) or (N, 1); "
            "re-save them as a 1-D array of digits (not one-hot)"
        )
    if array.dtype.kind not in "iuf":
        raise DataError(f"{name} has dtype {array.dtype}, expected integer digit labels 0-9; re-save them as numpy.int64")
    bad = (array < 0) | (array >= NUM_CLASSES)
    if array.dtype.kind == "f":
        bad |= ~np.isfinite(array) | (array != np.round(array))
    if np.any(bad):
        raise DataError(
            f"{name} has {int(np.count_nonzero(bad))} labels outside the digits 0-9 "
            f"(e.g. {_quote(array[bad])}); fix or drop those rows (in all files of the split)"
        )
    return array.astype(np.int64)
