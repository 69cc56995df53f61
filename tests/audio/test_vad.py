from __future__ import annotations

import numpy as np

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.audio.vad import FRAME_SAMPLES, SileroVAD, frame_probabilities, speech_in, speech_segments
from sayso.testing import silence, tone
from tests.speechdata import recordings


def test_silero_finds_the_speech_in_a_real_recording() -> None:
    rec = recordings("vctk")[0]
    audio = read_audio(rec.path)
    segments = speech_in(SileroVAD(), audio)
    assert segments, "speech expected"
    assert segments[0].start < 1.0
    assert segments[-1].end > audio.duration - 1.5
    spoken = sum(s.end - s.start for s in segments)
    assert spoken > 0.6 * audio.duration


def test_silero_finds_no_speech_in_silence_or_a_tone() -> None:
    vad = SileroVAD()
    assert speech_in(vad, silence(2.0)) == []
    assert speech_in(vad, tone(2.0)) == []


def test_leading_silence_is_not_speech() -> None:
    rec = recordings("vctk")[1]
    speech = read_audio(rec.path).resampled()
    padded = Audio(np.concatenate([silence(1.5).samples, speech.samples]), speech.rate)
    segments = speech_in(SileroVAD(), padded)
    assert 1.3 < segments[0].start < 2.6


def test_streaming_state_is_reset_between_recordings() -> None:
    vad = SileroVAD()
    audio = read_audio(recordings("vctk")[2].path)
    first = frame_probabilities(vad, audio)
    second = frame_probabilities(vad, audio)
    assert np.allclose(first, second)
    assert len(first) == len(audio.resampled().samples) // FRAME_SAMPLES


def test_segments_bridge_short_pauses_and_drop_blips() -> None:
    frame_s = FRAME_SAMPLES / 16000
    probs = np.array([0] * 5 + [1] * 20 + [0] * 3 + [1] * 20 + [0] * 30 + [1] * 2 + [0] * 5, dtype=np.float32)
    segments = speech_segments(probs, min_silence=0.3, min_speech=0.2)
    assert len(segments) == 1  # the 3-frame (96 ms) pause is bridged, the 2-frame blip dropped
    assert abs(segments[0].start - 5 * frame_s) < 1e-6
    assert abs(segments[0].end - 48 * frame_s) < 1e-6
