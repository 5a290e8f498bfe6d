"""The data set's in-memory form: a ``Split`` (images, audio, labels, validated on construction) and a
``Dataset`` (train + optional test). Numpy only; every other module of the package builds on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.constants import AUDIO_FEATURES, IMAGE_PIXELS

from .errors import DataError

__all__ = ["Dataset", "Split"]


@dataclass(frozen=True)
class Split:
    """One part (train, validation or test) of the paired image/audio data.

    Attributes:
        images: ``(N, 784)`` uint8 MNIST-style pixels in 0..255.
        audio: ``(N, 507)`` float32 MFCC features (39 frames x 13 coefficients,
            frame-major).
        labels: ``(N,)`` int64 digits 0..9, or None for an unlabelled test set.
    """

    images: np.ndarray
    audio: np.ndarray
    labels: np.ndarray | None

    def __post_init__(self) -> None:
        # Splits are also built by hand (tests, other modules), so check the
        # structural contract once here instead of in every consumer.
        if self.images.ndim != 2 or self.images.shape[1] != IMAGE_PIXELS:
            raise DataError(f"Split.images must have shape (N, {IMAGE_PIXELS}), got {self.images.shape}")
        if self.audio.ndim != 2 or self.audio.shape[1] != AUDIO_FEATURES:
            raise DataError(f"Split.audio must have shape (N, {AUDIO_FEATURES}), got {self.audio.shape}")
        lengths = [len(self.images), len(self.audio)]
        if self.labels is not None:
            if self.labels.ndim != 1:
                raise DataError(f"Split.labels must have shape (N,), got {self.labels.shape}")
            lengths.append(len(self.labels))
        if len(set(lengths)) != 1:
            raise DataError(
                "Split arrays must have the same number of rows, got "
                f"images={len(self.images)}, audio={len(self.audio)}"
                + ("" if self.labels is None else f", labels={len(self.labels)}")
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def labelled(self) -> bool:
        """Whether this split carries labels."""
        return self.labels is not None

    def concat(self, other: Split) -> Split:
        """This split's rows, then ``other``'s (both labelled: training on train + validation)."""
        return Split(
            np.concatenate([self.images, other.images]),
            np.concatenate([self.audio, other.audio]),
            np.concatenate([self.labels, other.labels]),
        )

    def subset(self, idx: np.ndarray) -> Split:
        """Return the rows selected by ``idx`` as a new Split.

        Args:
            idx: Integer indices or a boolean mask of length ``len(self)``.

        Returns:
            A Split holding copies of the selected rows (labels stay None when
            this split is unlabelled).

        Raises:
            IndexError: If ``idx`` is out of range (a programming error, not a
                data problem).
        """
        idx = np.asarray(idx)
        return Split(
            images=self.images[idx],
            audio=self.audio[idx],
            labels=None if self.labels is None else self.labels[idx],
        )


@dataclass(frozen=True)
class Dataset:
    """A loaded data set.

    Attributes:
        train: The data the hyperparameter search may use (it carves its own
            validation part out of it).
        test: Held-out test set (labelled or not), never used in the search;
            None when the source has none.
        source: Human description of where the data came from.
        synthetic_audio: True when the audio features are synthetic (demo).
    """

    train: Split
    test: Split | None
    source: str
    synthetic_audio: bool
