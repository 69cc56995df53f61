"""Transformed copies of a voice: how an imitation might disguise it.

A protected person is enrolled as their voice plus these variants, and a check scores the
closest one: the embedding moves a long way under a phase-vocoder pitch shift or time stretch
and under heavy noise (on the shared speech set, 1-25 % of such copies still scored as
sound-alikes of the clean enrolment), but stays close to a variant made the same way.
Codec and band-limit changes (MP3, 8 kHz) barely move it, so they need no variant.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.errors import EmptyAudio
from sayso.voices.embedding import SpeakerEmbedder, VoicePrint, enrolment_vector

Transform = Callable[[Audio], Audio]


def pitch(semitones: float) -> Transform:
    """Shift the pitch, keeping the duration."""

    def apply(audio: Audio) -> Audio:
        import librosa

        shifted = librosa.effects.pitch_shift(audio.samples, sr=audio.rate, n_steps=semitones)
        return Audio(np.asarray(shifted, dtype=np.float32), audio.rate)

    return apply


def stretch(rate: float) -> Transform:
    """Speed up (rate > 1) or slow down, keeping the pitch."""

    def apply(audio: Audio) -> Audio:
        import librosa

        return Audio(np.asarray(librosa.effects.time_stretch(audio.samples, rate=rate), dtype=np.float32), audio.rate)

    return apply


def noise(snr_db: float, seed: int = 0) -> Transform:
    """Add white noise at ``snr_db`` below the audio's power."""

    def apply(audio: Audio) -> Audio:
        power = float(np.mean(np.square(audio.samples)))
        scale = np.sqrt(power / 10 ** (snr_db / 10))
        hiss = np.random.default_rng(seed).standard_normal(len(audio.samples)).astype(np.float32) * scale
        return Audio((audio.samples + hiss).astype(np.float32), audio.rate)

    return apply


def mp3(compression_level: float = 0.85) -> Transform:
    """Through MP3 and back; level 0.85 is 32 kbps constant bitrate for 16 kHz mono in libsndfile."""

    def apply(audio: Audio) -> Audio:
        import soundfile as sf

        buffer = io.BytesIO()
        sf.write(
            buffer,
            audio.resampled(SAMPLE_RATE).samples,
            SAMPLE_RATE,
            format="MP3",
            compression_level=compression_level,
            bitrate_mode="CONSTANT",
        )
        buffer.seek(0)
        data, rate = sf.read(buffer, dtype="float32")
        return Audio.from_array(data, rate)

    return apply


def band_limit(rate: int) -> Transform:
    """Resampled to ``rate`` (and so band-limited), as a phone line would."""
    return lambda audio: audio.resampled(rate)


ENROLMENT_VARIANTS: dict[str, Transform] = {
    "pitch +2 st": pitch(2.0),
    "pitch -2 st": pitch(-2.0),
    "stretch x1.1": stretch(1.1),
    "stretch x0.9": stretch(0.9),
    "noise 10 dB SNR": noise(10.0),
}
"""Variants stored with each protected voice, besides the voice itself."""

ROBUSTNESS_TESTS: dict[str, Transform] = {
    **ENROLMENT_VARIANTS,
    "noise 10 dB SNR": noise(10.0, seed=1),  # not the enrolment variant's own noise
    "8 kHz": band_limit(8_000),
    "mp3 32 kbps": mp3(),
}
"""The transformations a protected voice must still be caught under (bench/likeness.py)."""


def variant_prints(embedder: SpeakerEmbedder, audio: Audio) -> dict[str, VoicePrint]:
    """The voiceprint of each enrolment variant of one recording (a variant with no speech left is skipped)."""
    prints = {}
    for label, transform in ENROLMENT_VARIANTS.items():
        with suppress(EmptyAudio):
            prints[label] = embedder.voiceprint(transform(audio.resampled(SAMPLE_RATE)))
    return prints


def enrolment_vectors(
    prints: Sequence[VoicePrint], variants: Sequence[Mapping[str, VoicePrint]] = ()
) -> dict[str, np.ndarray]:
    """An enrolment as the registry stores it: ``"voice"`` from ``prints``, then one vector per variant."""
    vectors = {"voice": enrolment_vector(prints)}
    for label in ENROLMENT_VARIANTS:
        found = [v[label] for v in variants if label in v]
        if found:
            vectors[label] = enrolment_vector(found)
    return vectors
