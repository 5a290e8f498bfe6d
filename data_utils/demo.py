"""Built-in demo data set: real handwritten digits + SYNTHETIC spoken-digit features.

The images are scikit-learn's bundled handwritten digits (1797 real 8x8 scans,
no download needed), upsampled to MNIST's 28x28 format. No spoken-digit audio
ships with any installed package, so the audio is synthesised: for every image
we render a fake utterance of the same digit as a log-mel spectrogram with
digit-specific formant trajectories, pass it through a small population of
synthetic speakers (vocal-tract scaling, tempo, channel colouring) plus noise,
and convert it to 39 frames x 13 MFCCs like the real features.

The noise level is chosen so neither modality is perfect on its own (audio
alone is clearly worse than images alone) and fusing both helps, which is what
the multimodal search is supposed to discover. The audio is NOT real speech:
results on the demo say nothing about the real data set.
"""

from __future__ import annotations

import numpy as np

from common.constants import AUDIO_COEFFS, AUDIO_FEATURES, AUDIO_FRAMES, IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES

from .dataset import Dataset, Split

__all__ = ["DEMO_TEST_FRACTION", "make_demo_dataset"]

DEMO_TEST_FRACTION = 0.2

# The digit "vocabulary" (what each digit sounds like) is fixed across seeds,
# like a language is; the seed only changes speakers, pairing and noise. This
# keeps the demo's difficulty stable whatever seed the user picks.
_VOCAB_SEED = 20240611

_N_MEL = 26  # mel bands the MFCCs are computed from, as in common MFCC setups
_N_SPEAKERS = 6

# Difficulty knobs, tuned so logistic regression on the audio alone lands
# around 0.8-0.9 held-out accuracy (images alone ~0.95, both together higher).
_FORMANT_JITTER = 1.0  # per-utterance formant displacement, in mel bands
_SPECTRAL_NOISE = 0.7  # i.i.d. noise on the log-mel spectrogram
_MFCC_NOISE = 0.55  # i.i.d. noise on the final MFCCs


def make_demo_dataset(seed: int = 0) -> Dataset:
    """Build the demo data set deterministically from ``seed``.

    Args:
        seed: Controls the synthetic audio (speakers, tempo, noise) and the
            held-out test split. The same seed gives identical arrays.

    Returns:
        A Dataset with ~80% of the 1797 digits in ``train`` and a stratified,
        labelled ~20% ``test`` split; images ``(N, 784)`` uint8 0..255, audio
        ``(N, 507)`` float32 standardised per feature, labels int64 0..9, and
        ``synthetic_audio=True``.

    Raises:
        DataError: Only if scikit-learn's bundled digits are unusable (it
            would mean a broken scikit-learn installation).
    """
    # Lazy import: scikit-learn is slow to import and only the demo needs it.
    from sklearn.datasets import load_digits

    from .splits import train_val_split

    digits = load_digits()
    labels = digits.target.astype(np.int64)
    images = _upsample_digits(digits.images)

    rng = np.random.default_rng(seed)
    audio = _synthesise_audio(labels, rng)
    # Standardise per feature with the data set's own statistics, mirroring
    # how the real spoken-digit features are distributed (mean 0, std 1).
    audio = (audio - audio.mean(axis=0)) / (audio.std(axis=0) + 1e-8)

    full = Split(images=images, audio=audio.astype(np.float32), labels=labels)
    train, test = train_val_split(full, DEMO_TEST_FRACTION, seed)
    return Dataset(
        train=train,
        test=test,
        source=(
            "demo (sklearn digits + SYNTHETIC audio): real 8x8 handwritten digits upsampled "
            "to 28x28, paired with synthetic spoken-digit MFCCs (not real speech)"
        ),
        synthetic_audio=True,
    )


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix doing 1-D bilinear resampling with pixel-centre alignment."""
    pos = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    pos = np.clip(pos, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    mat = np.zeros((n_out, n_in))
    mat[np.arange(n_out), lo] += 1 - frac
    mat[np.arange(n_out), hi] += frac
    return mat


def _upsample_digits(images8: np.ndarray) -> np.ndarray:
    """Turn (N, 8, 8) images with values 0..16 into (N, 784) uint8 MNIST-style images."""
    # MNIST fits each digit into a 20x20 box centred in 28x28 (4px border).
    box = IMAGE_SIDE - 8
    mat = _bilinear_matrix(images8.shape[1], box)
    # Separable bilinear interpolation: rows then columns, as two matmuls.
    big = np.einsum("ij,njk,lk->nil", mat, images8.astype(np.float64), mat)
    canvas = np.zeros((len(images8), IMAGE_SIDE, IMAGE_SIDE))
    canvas[:, 4 : 4 + box, 4 : 4 + box] = big
    pixels = np.clip(np.round(canvas * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    return pixels.reshape(len(images8), IMAGE_PIXELS)


def _dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II rows used to turn log-mel energies into MFCCs."""
    k = np.arange(n_out)[:, None]
    m = np.arange(n_in)[None, :]
    mat = np.sqrt(2.0 / n_in) * np.cos(np.pi * k * (m + 0.5) / n_in)
    mat[0] /= np.sqrt(2.0)
    return mat


def _vocabulary() -> dict[str, np.ndarray]:
    """Per-digit acoustic templates: formant paths, loudness contour, frication."""
    rng = np.random.default_rng(_VOCAB_SEED)
    # Three formants per digit, start and end positions in mel bands; the
    # digit identity lives mostly in where the formants start and go.
    lows = np.array([3.0, 9.0, 16.0])
    highs = np.array([9.0, 16.0, 23.0])
    start = rng.uniform(lows, highs, size=(NUM_CLASSES, 3))
    end = rng.uniform(lows, highs, size=(NUM_CLASSES, 3))
    # Syllable count shapes the loudness contour: "zero" and "seven" have two.
    syllables = np.ones(NUM_CLASSES)
    syllables[[0, 7]] = 2
    # Fricative onsets ("six", "seven", "five", "four", "three") add a burst of
    # high-band noise energy at the start.
    frication = np.zeros(NUM_CLASSES)
    frication[[3, 4, 5, 6, 7]] = rng.uniform(0.6, 1.2, size=5)
    duration = rng.uniform(0.55, 0.8, size=NUM_CLASSES)  # fraction of the 39 frames
    return {
        "start": start,
        "end": end,
        "syllables": syllables,
        "frication": frication,
        "duration": duration,
    }


def _synthesise_audio(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render one synthetic utterance per label as (N, 507) raw (unstandardised) MFCCs."""
    n = len(labels)
    vocab = _vocabulary()

    # Speakers: vocal-tract length scales formants, tempo scales duration,
    # spectral tilt and a channel offset colour every frame.
    spk_scale = rng.uniform(0.88, 1.12, size=_N_SPEAKERS)
    spk_tempo = rng.uniform(0.85, 1.15, size=_N_SPEAKERS)
    spk_tilt = rng.normal(0.0, 1.0, size=_N_SPEAKERS)
    spk_channel = rng.normal(0.0, 0.8, size=(_N_SPEAKERS, AUDIO_COEFFS))
    speaker = rng.integers(0, _N_SPEAKERS, size=n)

    # Timing: where the word starts and how long it lasts, in normalised time.
    dur = vocab["duration"][labels] * spk_tempo[speaker] * rng.uniform(0.9, 1.1, size=n)
    dur = np.clip(dur, 0.4, 0.92)
    onset = rng.uniform(0.02, 1.0 - dur)
    t = (np.arange(AUDIO_FRAMES) + 0.5) / AUDIO_FRAMES
    u = (t[None, :] - onset[:, None]) / dur[:, None]  # (n, frames), 0..1 inside the word
    inside = (u >= 0) & (u <= 1)
    uc = np.clip(u, 0.0, 1.0)

    # Formant trajectories: smooth (smoothstep) glide from start to end, scaled
    # by the speaker and displaced per utterance.
    glide = uc * uc * (3 - 2 * uc)
    start = vocab["start"][labels] + rng.normal(0, _FORMANT_JITTER, size=(n, 3))
    end = vocab["end"][labels] + rng.normal(0, _FORMANT_JITTER, size=(n, 3))
    formants = start[:, None, :] + (end - start)[:, None, :] * glide[:, :, None]
    formants *= spk_scale[speaker][:, None, None]  # (n, frames, 3)

    bands = np.arange(_N_MEL, dtype=np.float64)
    peaks = np.exp(-0.5 * ((bands[None, None, None, :] - formants[..., None]) / 1.6) ** 2)
    # Higher formants are weaker, as in voiced speech.
    spectrum = (peaks * np.array([1.0, 0.8, 0.6])[None, None, :, None]).sum(axis=2)
    # Loudness contour: one or two syllable humps inside the word, silence outside.
    syl = vocab["syllables"][labels][:, None]
    loud = np.where(inside, np.abs(np.sin(np.pi * syl * uc)) ** 0.7, 0.0)
    spectrum = 4.0 * spectrum * loud[..., None]
    # Frication: broadband high-frequency energy in the first fifth of the word.
    fric = vocab["frication"][labels][:, None] * np.where(inside & (u < 0.2), 1.0, 0.0)
    spectrum += 2.0 * fric[..., None] * (bands / _N_MEL)[None, None, :] ** 2
    tilt = spk_tilt[speaker][:, None, None] * (bands / _N_MEL - 0.5)[None, None, :]
    log_mel = np.log1p(spectrum) * 3.0 + tilt
    log_mel += rng.normal(0, _SPECTRAL_NOISE, size=log_mel.shape)

    mfcc = log_mel @ _dct_matrix(_N_MEL, AUDIO_COEFFS).T  # (n, frames, 13)
    mfcc += spk_channel[speaker][:, None, :]
    mfcc += rng.normal(0, _MFCC_NOISE, size=mfcc.shape)
    return mfcc.reshape(n, AUDIO_FEATURES)
