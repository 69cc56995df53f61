"""The embedded speech models, run for real on short audio."""

from __future__ import annotations

from pathlib import Path

import jiwer
import numpy as np
import pytest

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.io import read_audio
from sayso.audio.vad import speech_in
from sayso.realtime.models import Models
from sayso.speech.normalize import normalize
from sayso.speech.stt.base import Transcript
from sayso.speech.stt.whisper import WhisperSTT
from sayso.speech.tts import make_tts
from sayso.speech.tts.piper import PiperTTS, joe_model_path
from sayso.voices.catalog import all_voices, find_voice
from tests.speechdata import recordings


def wer(expected: str, heard: str) -> float:
    return float(jiwer.wer(normalize(expected), normalize(heard)))


def test_tiny_transcribes_a_known_recording(models: Models) -> None:
    rec = recordings("vctk")[0]
    heard = models.stt.transcribe(read_audio(rec.path)).text
    assert wer(rec.transcript, heard) < 0.25, heard


def test_tiny_preview_is_rougher_but_close_and_silence_gives_no_text(models: Models) -> None:
    rec = recordings("vctk")[0]
    audio = read_audio(rec.path)
    assert wer(rec.transcript, models.stt.preview(audio).text) < 0.5
    quiet = Audio(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    assert models.stt.preview(quiet).text == "" and models.stt.transcribe(quiet).text == ""


def test_the_fitted_window_transcribes_like_the_full_one(models: Models) -> None:
    """transcribe's shortened encoder window loses nothing on real speech against faster-whisper's 30 s one."""
    stt = models.stt
    assert isinstance(stt, WhisperSTT)
    rows = recordings("vctk")[:4] + recordings("ljspeech")[:4]
    audio = [read_audio(r.path) for r in rows]
    fitted = jiwer.wer([normalize(r.transcript) for r in rows], [normalize(stt.transcribe(a).text) for a in audio])
    full = jiwer.wer([normalize(r.transcript) for r in rows], [normalize(stt.full_window(a).text) for a in audio])
    assert fitted <= full + 0.02, (fitted, full)


def test_audio_longer_than_the_fitted_window_is_transcribed_whole(models: Models) -> None:
    rows = recordings("ljspeech")[:3]
    audio = Audio.concat([read_audio(r.path).resampled(SAMPLE_RATE) for r in rows], SAMPLE_RATE)
    assert audio.duration > 18
    heard = models.stt.transcribe(audio).text
    assert wer(" ".join(r.transcript for r in rows), heard) < 0.25, heard


@pytest.mark.parametrize(
    ("looping", "preview"),
    [("Zero zero zero zero zero.", ""), ("What is it? What is it? What is", "What is it?")],
)
def test_a_repeating_decode_is_redone_by_faster_whisper(
    models: Models, monkeypatch: pytest.MonkeyPatch, looping: str, preview: str
) -> None:
    """A short window can make Whisper say a word or the whole clip again and again."""
    stt = models.stt
    assert isinstance(stt, WhisperSTT)
    rec = recordings("vctk")[0]
    monkeypatch.setattr(stt, "_fitted", lambda audio, pad: Transcript(text=looping))
    heard = stt.transcribe(read_audio(rec.path)).text
    assert wer(rec.transcript, heard) < 0.25, heard
    assert stt.preview(read_audio(rec.path)).text == preview  # a preview keeps what came before the repeat


def test_base_model_is_joined_checked_and_transcribes(models_home: Path) -> None:
    rec = recordings("ljspeech")[1]
    stt = WhisperSTT("base", models_home, threads=2)
    assert (models_home / "models" / "whisper-base" / "model.bin").stat().st_size == 2 * 72608766
    heard = stt.transcribe(read_audio(rec.path)).text
    assert wer(rec.transcript, heard) < 0.25, heard


def test_piper_speech_transcribes_back(models: Models) -> None:
    text = "The library opens at nine in the morning on weekdays."
    audio = models.tts(find_voice("joe")).synthesize(text)
    assert audio.rate == 22050
    assert 1.5 < audio.duration < 8
    assert wer(text, models.stt.transcribe(audio).text) <= 0.3  # Piper samples: a word may be misheard


@pytest.mark.parametrize("voice_id", ["joe", "espeak-us"])
def test_speed_changes_how_long_the_speech_lasts(models: Models, voice_id: str) -> None:
    tts = models.tts(find_voice(voice_id))
    text = "The library closes at six on weekdays."
    normal, slow, fast = (tts.synthesize(text, speed).duration for speed in (1.0, 0.6, 1.6))
    assert slow > 1.3 * normal and fast < 0.85 * normal


def test_unsampled_piper_says_a_text_the_same_way_every_time() -> None:
    sampled, unsampled = PiperTTS(joe_model_path()), PiperTTS(joe_model_path(), sampled=False)
    text = "The kettle is on."
    assert not np.array_equal(sampled.synthesize(text).samples, sampled.synthesize(text).samples)
    assert np.array_equal(unsampled.synthesize(text).samples, unsampled.synthesize(text).samples)


def test_piper_streams_one_piece_per_sentence(models: Models) -> None:
    pieces = list(models.tts(find_voice("joe")).stream("Hello there. How are you today?"))
    assert len(pieces) == 2
    assert all(p.duration > 0.3 for p in pieces)


@pytest.mark.parametrize("voice_id", [v.id for v in all_voices() if v.engine == "espeak"])
def test_espeak_presets_speak_intelligibly(models: Models, voice_id: str) -> None:
    voice = find_voice(voice_id)
    text = "I would like a cup of tea with milk, please."
    audio = make_tts(voice.engine, voice.params).synthesize(text)
    assert np.max(np.abs(audio.samples)) > 0.05
    segments = speech_in(models.vad, audio)
    assert segments and sum(s.end - s.start for s in segments) > 1.0
    # Formant voices are hard on Whisper tiny; most words must still come through.
    assert wer(text, models.stt.transcribe(audio).text) <= 0.6
