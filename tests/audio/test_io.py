from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.io import read_audio, write_audio
from sayso.errors import AudioNotFound, AudioTooLong, EmptyAudio, NotAudio
from sayso.testing import tone


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (44100, 2), (48000, 6)])
def test_reads_every_format_rate_and_channel_count(tmp_path: Path, suffix: str, rate: int, channels: int) -> None:
    if suffix == ".mp3" and rate == 8000:
        rate = 16000  # MP3 has no 8 kHz mode in libsndfile's encoder
    if suffix == ".mp3" and channels > 2:
        channels = 2
    t = np.arange(rate) / rate
    wave = 0.4 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path / f"a{suffix}", np.repeat(wave[:, None], channels, axis=1), rate)
    audio = read_audio(tmp_path / f"a{suffix}")
    assert audio.rate == rate
    assert audio.samples.ndim == 1
    assert abs(audio.duration - 1.0) < 0.1
    at16k = audio.resampled(SAMPLE_RATE)
    assert abs(len(at16k.samples) - len(audio.samples) * SAMPLE_RATE / rate) <= 2
    # The 440 Hz tone survives decoding, downmixing and resampling.
    spectrum = np.abs(np.fft.rfft(at16k.samples))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(at16k.samples) - 440) < 5


def test_downmix_averages_channels() -> None:
    stereo = np.stack([np.full(100, 0.5), np.full(100, -0.1)], axis=1).astype(np.float32)
    assert np.allclose(Audio.from_array(stereo, 8000).samples, 0.2)


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    original = tone(0.5, rate=22050)
    back = read_audio(write_audio(tmp_path / "out" / "x.wav", original))
    assert back.rate == 22050
    assert np.max(np.abs(back.samples - original.samples)) < 1e-3


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioNotFound, match="There is no file at"):
        read_audio(tmp_path / "nope.wav")


def test_folder_is_not_audio(tmp_path: Path) -> None:
    with pytest.raises(NotAudio, match="is a folder"):
        read_audio(tmp_path)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are not the samples you are looking for\n" * 20)
    with pytest.raises(NotAudio, match="not audio Sayso can read"):
        read_audio(path)


def test_corrupt_header(tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    sf.write(path, tone(1.0).samples, SAMPLE_RATE)
    data = bytearray(path.read_bytes())
    data[8:16] = b"JUNKJUNK"  # "WAVEfmt " becomes garbage
    path.write_bytes(bytes(data))
    with pytest.raises(NotAudio, match="header is corrupt"):
        read_audio(path)


def test_empty_recording(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), SAMPLE_RATE)
    with pytest.raises(EmptyAudio, match="holds no audio samples"):
        read_audio(path)


def test_two_hour_recording_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    block = np.zeros(8000 * 60, dtype=np.int16)
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, subtype="PCM_16") as out:
        for _ in range(120):
            out.write(block)
    with pytest.raises(AudioTooLong, match=r"lasts 2:00:00, longer than the 10:00"):
        read_audio(path, max_seconds=600)


def test_unknown_output_format(tmp_path: Path) -> None:
    with pytest.raises(NotAudio, match="end the name in"):
        write_audio(tmp_path / "x.aiff", tone(0.1))
