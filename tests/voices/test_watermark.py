"""The PerTh watermark, run for real on our torchaudio stand-in: found in Sayso speech, not in people's."""

from __future__ import annotations

import sys
import threading
import time

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


def test_loading_leaves_stdout_alone_for_other_threads(capsys: pytest.CaptureFixture[str]) -> None:
    """Models load on two threads; a load that swaps ``sys.stdout`` could leave the process printing nowhere."""
    before, swapped = sys.stdout, False
    loading = threading.Thread(target=Watermarker)
    loading.start()
    while loading.is_alive():
        swapped = swapped or sys.stdout is not before
        time.sleep(0.001)
    loading.join()
    assert not swapped and sys.stdout is before
    assert capsys.readouterr().out == ""


def test_marked_piper_speech_is_detected_and_unmarked_is_not(watermarker: Watermarker, piper_speech: Audio) -> None:
    marked = watermarker.embed(piper_speech)
    assert marked.rate == piper_speech.rate and len(marked.samples) == len(piper_speech.samples)
    assert not np.array_equal(marked.samples, piper_speech.samples)
    assert watermarker.detect(marked).found
    assert watermarker.detect(marked.resampled(16_000)).found
    assert not watermarker.detect(piper_speech).found


def _speech_to_mark_db(plain: Audio, marked: Audio) -> float:
    return float(10 * np.log10(np.mean(plain.samples**2) / np.mean((marked.samples - plain.samples) ** 2)))


def test_the_mark_is_quiet_and_strength_scales_it(watermarker: Watermarker, piper_speech: Audio) -> None:
    ratio = _speech_to_mark_db(piper_speech, watermarker.embed(piper_speech))
    assert ratio > 10  # PerTh hides the mark under the speech; it is not a second voice
    perth = Watermarker(strength=1.0)
    assert _speech_to_mark_db(piper_speech, perth.embed(piper_speech)) > ratio + 2  # 1.5x residual: ~3.5 dB louder


def _noisy(audio: Audio, seed: int, snr_db: float = 20.0) -> Audio:
    power = float(np.mean(audio.samples**2)) / 10 ** (snr_db / 10)
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(power), len(audio.samples))
    return Audio((audio.samples + noise).astype(np.float32), audio.rate)


def test_the_mark_survives_white_noise_and_noise_alone_is_not_flagged(watermarker: Watermarker) -> None:
    espeak = make_tts("espeak", find_voice("espeak-uk").params).synthesize("Good morning. It is seven degrees outside.")
    marked = watermarker.embed(espeak)  # eSpeak under noise was the weak case at PerTh's own strength
    assert all(watermarker.detect(_noisy(marked, seed)).found for seed in range(3))
    assert not any(watermarker.detect(_noisy(espeak, seed)).found for seed in range(2))


def test_quiet_frames_do_not_sway_the_decision(watermarker: Watermarker, piper_speech: Audio) -> None:
    # a long hiss after the speech outweighs it in frame count, but only the loud frames vote
    hiss = np.random.default_rng(7).normal(0.0, 0.002, 2 * len(piper_speech.samples)).astype(np.float32)
    marked = watermarker.embed(piper_speech)
    padded = Audio(np.concatenate([marked.samples, hiss]), marked.rate)
    assert watermarker.detect(padded).found
    assert not watermarker.detect(Audio(np.concatenate([piper_speech.samples, hiss]), marked.rate)).found


def test_human_speech_is_not_flagged(watermarker: Watermarker) -> None:
    people = (
        recordings("vctk")[:4] + recordings("ljspeech")[:3] + recordings("librispeech")[:3] + recordings("fsdd")[:4]
    )
    flagged = [r.path.name for r in people if watermarker.detect(read_audio(r.path)).found]
    assert flagged == []


def test_narrow_band_audio_is_undecidable_not_flagged(watermarker: Watermarker, piper_speech: Audio) -> None:
    phone = watermarker.embed(piper_speech).resampled(8_000)
    assert watermarker.detect(phone) == Detection(False, 0.0, decidable=False)
    # the mark itself survives (it lives below 2 kHz); telephone band is not judged because of false positives
    assert watermarker.score(phone) > watermarker.threshold > watermarker.score(piper_speech.resampled(8_000))
    digits = [read_audio(r.path) for r in recordings("fsdd")[:3]]
    assert not any(watermarker.detect(audio).found for audio in digits)
    # band-limited content is caught whatever rate it is stored at
    assert not any(watermarker.detect(audio.resampled(16_000)).decidable for audio in digits)


def test_a_short_reply_with_little_hiss_is_still_judged(watermarker: Watermarker) -> None:
    reply = make_tts("piper", find_voice("joe").params).synthesize("No problem at all.")
    found = watermarker.detect(watermarker.embed(reply).resampled(16_000))
    assert found.decidable and found.found


def test_silence_is_not_flagged_and_tiny_clips_are_still_marked(watermarker: Watermarker) -> None:
    assert not watermarker.detect(silence(2.0)).found
    short = tone(0.1, 22_050)
    marked = watermarker.embed(short)
    assert len(marked.samples) == len(short.samples) and not np.array_equal(marked.samples, short.samples)
