"""The PerTh watermark, run for real on our torchaudio stand-in: found in Sayso speech, not in people's."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.speech.tts import make_tts
from sayso.testing import silence, tone
from sayso.voices.catalog import find_voice
from sayso.voices.watermark import Detection, Watermarker
from tests.speechdata import recordings


@pytest.fixture(scope="module")
def piper_speech() -> Audio:
    """Raw Piper speech (straight from the engine, not through the marking wrapper)."""
    return make_tts("piper", find_voice("joe").params).synthesize(
        "The library opens at nine and closes at six on weekdays."
    )


def test_the_shim_does_not_linger_as_torchaudio(watermarker: Watermarker) -> None:
    assert "torchaudio" not in sys.modules and "torchaudio.transforms" not in sys.modules


def test_marked_piper_speech_is_detected_and_unmarked_is_not(watermarker: Watermarker, piper_speech: Audio) -> None:
    marked = watermarker.embed(piper_speech)
    assert marked.rate == piper_speech.rate and len(marked.samples) == len(piper_speech.samples)
    assert not np.array_equal(marked.samples, piper_speech.samples)
    assert watermarker.detect(marked).found
    assert watermarker.detect(marked.resampled(16_000)).found
    assert not watermarker.detect(piper_speech).found


def test_the_mark_is_quiet(watermarker: Watermarker, piper_speech: Audio) -> None:
    marked = watermarker.embed(piper_speech)
    noise = np.sqrt(np.mean((marked.samples - piper_speech.samples) ** 2))
    signal = np.sqrt(np.mean(piper_speech.samples**2))
    assert 20 * np.log10(signal / noise) > 10  # PerTh hides the mark under the speech; it is not a second voice


def test_human_speech_is_not_flagged(watermarker: Watermarker) -> None:
    people = (
        recordings("vctk")[:4] + recordings("ljspeech")[:3] + recordings("librispeech")[:3] + recordings("fsdd")[:4]
    )
    flagged = [r.path.name for r in people if watermarker.detect(read_audio(r.path)).found]
    assert flagged == []


def test_narrow_band_audio_is_undecidable_not_flagged(watermarker: Watermarker, piper_speech: Audio) -> None:
    phone = watermarker.embed(piper_speech).resampled(8_000)
    assert watermarker.detect(phone) == Detection(False, 0.0, decidable=False)
    digits = [read_audio(r.path) for r in recordings("fsdd")[:3]]
    assert not any(watermarker.detect(audio).found for audio in digits)


def test_silence_is_not_flagged_and_tiny_clips_are_still_marked(watermarker: Watermarker) -> None:
    assert not watermarker.detect(silence(2.0)).found
    short = tone(0.1, 22_050)
    marked = watermarker.embed(short)
    assert len(marked.samples) == len(short.samples) and not np.array_equal(marked.samples, short.samples)
