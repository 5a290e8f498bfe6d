"""Tests for data_utils.loaders: layouts, reshapes and every validation error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_utils import DataError, Dataset, Split, load_dataset

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA = REPO_ROOT / ".." / "shared" / "datasets" / "avdigits"

KAGGLE = {
    "train": ("x_train_wr.npy", "x_train_sp.npy", "y_train.npy"),
    "test": ("x_test_wr.npy", "x_test_sp.npy", "y_test.npy"),
}
ZENODO = {
    "train": ("data_wr_train.npy", "data_sp_train.npy", "labels_train.npy"),
    "test": ("data_wr_test.npy", "data_sp_test.npy", "labels_test.npy"),
}
LAYOUTS = {"kaggle": KAGGLE, "zenodo": ZENODO}


def make_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Valid (images, audio, labels) with every digit present."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
    audio = rng.standard_normal((n, 507)).astype(np.float32)
    labels = np.arange(n, dtype=np.int64) % 10
    return images, audio, labels


def write_layout(
    directory: Path,
    layout: str = "kaggle",
    n_train: int = 30,
    n_test: int | None = None,
    test_labels: bool = True,
) -> dict[str, np.ndarray]:
    """Write a valid data set; return the arrays by file name."""
    names = LAYOUTS[layout]
    written: dict[str, np.ndarray] = {}
    parts = [("train", n_train, True)]
    if n_test is not None:
        parts.append(("test", n_test, test_labels))
    for part, n, with_labels in parts:
        arrays = make_arrays(n, seed=0 if part == "train" else 1)
        for name, array in zip(names[part], arrays):
            if name in names[part][2:] and not with_labels:
                continue
            np.save(directory / name, array)
            written[name] = array
    return written


def assert_one_line(err: pytest.ExceptionInfo, *needles: str) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    assert isinstance(err.value, ValueError)  # DataError stays catchable as ValueError
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    return msg


# --------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("layout", ["kaggle", "zenodo"])
def test_train_only(tmp_path: Path, layout: str) -> None:
    arrays = write_layout(tmp_path, layout, n_train=30)
    ds = load_dataset(tmp_path)
    names = LAYOUTS[layout]["train"]
    assert isinstance(ds, Dataset)
    assert ds.test is None
    assert ds.synthetic_audio is False
    assert str(tmp_path) in ds.source and layout.capitalize() in ds.source
    assert len(ds.train) == 30
    np.testing.assert_array_equal(ds.train.images, arrays[names[0]])
    np.testing.assert_array_equal(ds.train.audio, arrays[names[1]])
    np.testing.assert_array_equal(ds.train.labels, arrays[names[2]])
    assert ds.train.images.dtype == np.uint8
    assert ds.train.audio.dtype == np.float32
    assert ds.train.labels.dtype == np.int64


@pytest.mark.parametrize("layout", ["kaggle", "zenodo"])
def test_labelled_test_set(tmp_path: Path, layout: str) -> None:
    arrays = write_layout(tmp_path, layout, n_train=30, n_test=20)
    ds = load_dataset(str(tmp_path))
    assert ds.test is not None and len(ds.test) == 20
    np.testing.assert_array_equal(ds.test.labels, arrays[LAYOUTS[layout]["test"][2]])
    assert ds.test.images.shape == (20, 784) and ds.test.audio.shape == (20, 507)


@pytest.mark.parametrize("layout", ["kaggle", "zenodo"])
def test_unlabelled_test_set(tmp_path: Path, layout: str) -> None:
    write_layout(tmp_path, layout, n_train=30, n_test=20, test_labels=False)
    ds = load_dataset(tmp_path)
    assert ds.test is not None and ds.test.labels is None and not ds.test.labelled
    assert len(ds.test) == 20
    assert ds.train.labels is not None


def test_both_layouts_prefers_kaggle_and_says_so(tmp_path: Path) -> None:
    kag = write_layout(tmp_path, "kaggle", n_train=30)
    np.save(tmp_path / "data_wr_train.npy", np.zeros((5, 784), np.uint8))
    np.save(tmp_path / "data_sp_train.npy", np.zeros((5, 507), np.float32))
    np.save(tmp_path / "labels_train.npy", np.zeros(5, np.int64))
    ds = load_dataset(tmp_path)
    assert len(ds.train) == 30
    np.testing.assert_array_equal(ds.train.images, kag["x_train_wr.npy"])
    assert "Kaggle layout" in ds.source and "Zenodo" in ds.source and "ignored" in ds.source


def test_reshapes_and_casts(tmp_path: Path) -> None:
    images, audio, labels = make_arrays(20)
    np.save(tmp_path / "x_train_wr.npy", images.reshape(20, 28, 28).astype(np.float64))
    np.save(tmp_path / "x_train_sp.npy", audio.reshape(20, 39, 13).astype(np.float64))
    np.save(tmp_path / "y_train.npy", labels.reshape(20, 1).astype(np.float32))
    # Test set in the flat layout with other integer dtypes: shapes must agree with train.
    np.save(tmp_path / "x_test_wr.npy", images[:10].astype(np.int64))
    np.save(tmp_path / "x_test_sp.npy", np.arange(10 * 507, dtype=np.int32).reshape(10, 507))
    np.save(tmp_path / "y_test.npy", labels[:10].astype(np.uint8))
    ds = load_dataset(tmp_path)
    np.testing.assert_array_equal(ds.train.images, images)
    # (N, 39, 13) flattens frame-major: frame f, coefficient c -> column 13*f + c.
    np.testing.assert_array_equal(ds.train.audio, audio)
    assert ds.train.audio[3, 13 * 2 + 5] == audio.reshape(20, 39, 13)[3, 2, 5]
    np.testing.assert_array_equal(ds.train.labels, labels)
    assert ds.train.images.dtype == ds.test.images.dtype == np.uint8
    assert ds.train.audio.dtype == ds.test.audio.dtype == np.float32
    assert ds.train.labels.dtype == ds.test.labels.dtype == np.int64
    assert ds.train.images.shape[1:] == ds.test.images.shape[1:]
    assert ds.train.audio.shape[1:] == ds.test.audio.shape[1:]


def test_demo_source_and_home_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = load_dataset("demo", seed=0)
    assert ds.synthetic_audio and "SYNTHETIC" in ds.source
    monkeypatch.setenv("HOME", str(tmp_path))
    write_layout(tmp_path, "zenodo", n_train=10)
    assert len(load_dataset("~").train) == 10


def test_split_dataclass_contract() -> None:
    images, audio, labels = make_arrays(10)
    split = Split(images, audio, labels)
    assert len(split) == 10
    sub = split.subset(np.array([1, 3, 5]))
    np.testing.assert_array_equal(sub.labels, labels[[1, 3, 5]])
    assert len(split.subset(labels == 2)) == 1
    unl = Split(images, audio, None).subset(np.arange(4))
    assert unl.labels is None and len(unl) == 4
    with pytest.raises(AttributeError):
        split.images = images  # type: ignore[misc]  # frozen
    for bad in (
        dict(images=images[:, :783]),
        dict(audio=audio.reshape(10, 39, 13)),
        dict(labels=labels[:9]),
        dict(labels=labels.reshape(10, 1)),
        dict(audio=audio[:9]),
    ):
        kwargs = dict(images=images, audio=audio, labels=labels) | bad
        with pytest.raises(DataError):
            Split(**kwargs)


def test_import_is_light() -> None:
    code = "import sys, data_utils; print('sklearn' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------ directory problems


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path / "nope")
    assert_one_line(err, "nope", "does not exist", "demo")


def test_source_is_a_file(tmp_path: Path) -> None:
    write_layout(tmp_path)
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path / "x_train_wr.npy")
    assert_one_line(err, "x_train_wr.npy", "not a directory")


def test_no_layout_lists_expected_files(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    assert_one_line(err, str(tmp_path), *KAGGLE["train"], *ZENODO["train"], "Kaggle", "Zenodo", "x_test_sp.npy")


@pytest.mark.parametrize("layout", ["kaggle", "zenodo"])
@pytest.mark.parametrize("missing", [0, 1, 2])
def test_incomplete_train_layout(tmp_path: Path, layout: str, missing: int) -> None:
    write_layout(tmp_path, layout)
    name = LAYOUTS[layout]["train"][missing]
    (tmp_path / name).unlink()
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    assert_one_line(err, name, "missing", layout.capitalize())


@pytest.mark.parametrize("layout", ["kaggle", "zenodo"])
@pytest.mark.parametrize(
    "present, missing",
    [((0,), (1,)), ((1,), (0,)), ((0, 2), (1,)), ((2,), (0, 1))],
    ids=["images-only", "audio-only", "images+labels", "labels-only"],
)
def test_partial_test_set(tmp_path: Path, layout: str, present: tuple, missing: tuple) -> None:
    write_layout(tmp_path, layout, n_test=10)
    names = LAYOUTS[layout]["test"]
    for i in range(3):
        if i not in present:
            (tmp_path / names[i]).unlink()
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    msg = assert_one_line(err, "partial test set", *(names[i] for i in missing))
    assert "missing" in msg


# ------------------------------------------------------------ unreadable files


def _npy_bytes(array: np.ndarray, tmp_path: Path) -> bytes:
    path = tmp_path / "_scratch.npy"
    np.save(path, array, allow_pickle=True)
    data = path.read_bytes()
    path.unlink()
    return data


@pytest.mark.parametrize(
    "content, needle",
    [
        (lambda b, p: b"", "empty (0 bytes)"),
        (lambda b, p: b[:20], "truncated"),
        (lambda b, p: b[: len(b) // 2], "truncated"),
        (lambda b, p: b"just some text, not numpy", "not a .npy file"),
        (lambda b, p: b"PK\x03\x04 zip archive", ".npz"),
        (lambda b, p: _npy_bytes(np.array([1, "a", None], dtype=object), p), "pickled/object"),
    ],
    ids=["empty-file", "truncated-header", "truncated-data", "text", "npz", "object-array"],
)
@pytest.mark.parametrize("target", range(3), ids=["images", "audio", "labels"])
def test_unreadable_files(tmp_path: Path, content, needle: str, target: int) -> None:
    write_layout(tmp_path)
    name = KAGGLE["train"][target]
    good = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(content(good, tmp_path))
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    assert_one_line(err, name, needle)


def test_real_npz_file(tmp_path: Path) -> None:
    write_layout(tmp_path)
    np.savez(tmp_path / "arrays.npz", a=np.zeros(3))
    (tmp_path / "arrays.npz").replace(tmp_path / "y_train.npy")
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    assert_one_line(err, "y_train.npy", ".npz")


def test_file_is_a_directory(tmp_path: Path) -> None:
    write_layout(tmp_path)
    (tmp_path / "x_train_sp.npy").unlink()
    (tmp_path / "x_train_sp.npy").mkdir()
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    assert_one_line(err, "x_train_sp.npy", "cannot read")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path: Path) -> None:
    write_layout(tmp_path)
    (tmp_path / "y_train.npy").chmod(0)
    try:
        with pytest.raises(DataError) as err:
            load_dataset(tmp_path)
        assert_one_line(err, "y_train.npy", "cannot read")
    finally:
        (tmp_path / "y_train.npy").chmod(0o644)


# ------------------------------------------------------------ array validation

N = 20
_IMG = make_arrays(N)[0]

BAD_ARRAYS = [
    # (file index in the split, array, words the message must contain)
    # --- empty / scalar
    (0, np.zeros((0, 784), np.uint8), "empty (0 rows)"),
    (1, np.zeros((0, 507), np.float32), "empty (0 rows)"),
    (2, np.zeros((0,), np.int64), "empty (0 rows)"),
    (2, np.array(3), "scalar"),
    # --- images
    (0, np.zeros((N, 783), np.uint8), "(N, 784) or (N, 28, 28)"),
    (0, np.zeros((N, 28, 27), np.uint8), "(N, 784) or (N, 28, 28)"),
    (0, np.zeros((N * 784,), np.uint8), "(N, 784) or (N, 28, 28)"),
    (0, _IMG / 255.0, "scaled to 0-1"),
    (0, _IMG.astype(np.int64) - 1, "-1"),
    (0, _IMG.astype(np.int32) + 1, "256"),
    (0, _IMG.astype(np.float32) + 0.5, "whole numbers in 0-255"),
    (0, np.where(_IMG > 200, np.nan, _IMG.astype(np.float64)), "nan"),
    (0, _IMG.astype(str), "dtype <U"),
    (0, _IMG > 100, "dtype bool"),
    (0, _IMG.astype(np.complex64), "dtype complex64"),
    # --- audio
    (1, np.zeros((N, 506), np.float32), "(N, 507) or (N, 39, 13)"),
    (1, np.zeros((N, 13, 39), np.float32), "transpose"),
    (1, np.zeros((N, 507), dtype="U3"), "real numeric"),
    (1, np.zeros((N, 507), dtype=bool), "dtype bool"),
    (1, np.zeros((N, 507), dtype=np.complex128), "dtype complex128"),
    (1, np.where(np.eye(N, 507) > 0, np.nan, 0.0).astype(np.float32), "20 NaN/inf"),
    (1, np.full((N, 507), np.inf), "10140 NaN/inf"),
    (1, np.full((N, 507), 1e300), "too large for float32"),
    # --- labels
    (2, np.zeros((N, 2), np.int64), "(N,) or (N, 1)"),
    (2, np.zeros((N, 10), np.float32), "not one-hot"),
    (2, np.arange(N, dtype=np.int64), "10, 11, 12, 13, 14, ..."),
    (2, np.arange(N, dtype=np.int64) % 10 - 1, "-1"),
    (2, np.full(N, 2.5), "2.5"),
    (2, np.full(N, np.nan), "nan"),
    (2, (np.arange(N) % 10).astype(str), "integer digit labels"),
    (2, np.arange(N) % 2 == 0, "dtype bool"),
    (2, np.arange(N) % 10 + 0j, "dtype complex128"),
]


@pytest.mark.parametrize("layout", ["kaggle", "zenodo"])
@pytest.mark.parametrize("part", ["train", "test"])
@pytest.mark.parametrize("index, array, needle", BAD_ARRAYS)
def test_bad_arrays(tmp_path: Path, layout: str, part: str, index: int, array: np.ndarray, needle: str) -> None:
    write_layout(tmp_path, layout, n_train=N, n_test=N)
    name = LAYOUTS[layout][part][index]
    np.save(tmp_path / name, array)
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    msg = assert_one_line(err, name, needle)
    # Every message says how to fix the problem, not only what is wrong.
    assert any(w in msg for w in ("re-save", "fix", "clean", "re-export", "convert"))


@pytest.mark.parametrize("part", ["train", "test"])
@pytest.mark.parametrize("short", [0, 1, 2])
def test_mismatched_lengths(tmp_path: Path, part: str, short: int) -> None:
    write_layout(tmp_path, "kaggle", n_train=N, n_test=N)
    names = KAGGLE[part]
    np.save(tmp_path / names[short], make_arrays(N - 3)[short])
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    msg = assert_one_line(err, "mismatched lengths", part, *names, f"has {N - 3} rows", f"has {N} rows")
    assert "one row per sample" in msg


def test_mismatched_lengths_unlabelled_test(tmp_path: Path) -> None:
    write_layout(tmp_path, "zenodo", n_train=N, n_test=N, test_labels=False)
    np.save(tmp_path / "data_sp_test.npy", make_arrays(5)[1])
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    assert_one_line(err, "data_wr_test.npy has 20 rows", "data_sp_test.npy has 5 rows")


# ------------------------------------------------------------ the real data set


@pytest.mark.skipif(not REAL_DATA.is_dir(), reason=f"real data set not available at {REAL_DATA}")
def test_real_dataset() -> None:
    ds = load_dataset(REAL_DATA)
    assert "Kaggle layout" in ds.source and not ds.synthetic_audio
    assert ds.test is not None and ds.test.labels is not None
    for split, n in ((ds.train, 8000), (ds.test, 2000)):
        assert len(split) == n
        assert split.images.shape == (n, 784) and split.images.dtype == np.uint8
        assert split.audio.shape == (n, 507) and split.audio.dtype == np.float32
        assert split.labels.shape == (n,) and split.labels.dtype == np.int64
        assert set(np.unique(split.labels)) == set(range(10))
        assert np.isfinite(split.audio).all()
