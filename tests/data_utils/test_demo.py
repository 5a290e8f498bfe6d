"""Tests for the built-in demo data set (real sklearn digits + synthetic audio)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from data_utils import Dataset, load_dataset, make_demo_dataset


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return make_demo_dataset(seed=0)


def test_shapes_dtypes_and_split(demo: Dataset) -> None:
    assert demo.synthetic_audio is True
    assert "SYNTHETIC" in demo.source and "demo" in demo.source
    assert demo.test is not None and demo.test.labels is not None
    n_train, n_test = len(demo.train), len(demo.test)
    assert n_train + n_test == 1797
    assert n_test == pytest.approx(0.2 * 1797, abs=1)
    for split in (demo.train, demo.test):
        assert split.images.shape == (len(split), 784) and split.images.dtype == np.uint8
        assert split.audio.shape == (len(split), 507) and split.audio.dtype == np.float32
        assert split.labels.dtype == np.int64
        assert set(np.unique(split.labels)) == set(range(10))
        assert np.isfinite(split.audio).all()
    # Stratified: class proportions of the test set match the whole set.
    all_labels = np.r_[demo.train.labels, demo.test.labels]
    expected = np.bincount(all_labels) * n_test / len(all_labels)
    assert np.all(np.abs(np.bincount(demo.test.labels) - expected) <= 1)


def test_images_look_like_mnist(demo: Dataset) -> None:
    images = np.r_[demo.train.images, demo.test.images].reshape(-1, 28, 28)
    assert images.max() == 255 and images.min() == 0
    # The digit lives in a 20x20 box with a 4 px empty border, like MNIST.
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert not images[:, border].any()
    assert images[:, 4:24, 4:24].mean() > 30


def test_audio_is_standardised_per_feature(demo: Dataset) -> None:
    audio = np.r_[demo.train.audio, demo.test.audio].astype(np.float64)
    np.testing.assert_allclose(audio.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(audio.std(axis=0), 1.0, atol=1e-3)


def test_deterministic_per_seed(demo: Dataset) -> None:
    again = make_demo_dataset(seed=0)
    for a, b in ((demo.train, again.train), (demo.test, again.test)):
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.audio, b.audio)
        np.testing.assert_array_equal(a.labels, b.labels)
    other = make_demo_dataset(seed=1)
    assert not np.array_equal(demo.train.audio, other.train.audio)
    # load_dataset("demo") forwards the seed.
    np.testing.assert_array_equal(load_dataset("demo", seed=1).test.audio, other.test.audio)


def test_fast(demo: Dataset) -> None:
    # The first call pays for importing scikit-learn; building the data itself must be quick.
    start = time.perf_counter()
    make_demo_dataset(seed=5)
    assert time.perf_counter() - start < 1.0


def _accuracies(ds: Dataset) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    def feats(split, which: str) -> np.ndarray:
        parts = {"images": [split.images / 255.0], "audio": [split.audio]}
        parts["both"] = parts["images"] + parts["audio"]
        return np.hstack(parts[which])

    scores = {}
    # One BLAS thread: on a busy shared machine, thread oversubscription makes
    # these tiny fits 10-50x slower.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter is irrelevant here
        for which in ("images", "audio", "both"):
            model = LogisticRegression(C=1.0, max_iter=300)
            model.fit(feats(ds.train, which), ds.train.labels)
            scores[which] = model.score(feats(ds.test, which), ds.test.labels)
    return scores


@pytest.mark.parametrize("seed", [0, 1])
def test_neither_modality_is_perfect_and_fusion_helps(seed: int) -> None:
    acc = _accuracies(make_demo_dataset(seed=seed))
    assert 0.75 <= acc["audio"] <= 0.95, acc
    assert 0.92 <= acc["images"] <= 0.99, acc
    assert acc["both"] > max(acc["images"], acc["audio"]), acc
