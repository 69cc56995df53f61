"""eSpeak NG formant voices (Debian package ``espeak-ng``), run as a subprocess."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator

import soundfile as sf

from sayso.audio.frames import Audio
from sayso.errors import BackendError, ModelMissing
from sayso.speech.tts.base import TTS


class EspeakTTS(TTS):
    """One eSpeak NG voice (e.g. ``en-us``, ``en-gb+f3``) at a speaking rate in words per minute."""

    rate = 22_050

    def __init__(self, voice: str, words_per_minute: int = 165) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise ModelMissing("espeak-ng is not installed; run `make run` to set Sayso up.")
        self._binary, self._voice, self._words_per_minute = binary, voice, words_per_minute

    def stream(self, text: str, speed: float = 1.0) -> Iterator[Audio]:
        command = [self._binary, "-v", self._voice, "-s", str(round(self._words_per_minute * speed)), "--stdout"]
        result = subprocess.run([*command, "--", text], capture_output=True, check=False, timeout=60)
        if result.returncode != 0 or not result.stdout:
            raise BackendError(f"espeak-ng failed: {result.stderr.decode(errors='replace').strip()}")
        data, rate = sf.read(io.BytesIO(result.stdout), dtype="float32", always_2d=True)
        yield Audio.from_array(data, rate)
