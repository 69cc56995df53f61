"""A Wyoming protocol server (speech-to-text and text-to-speech) for Home Assistant's voice pipeline.

Wyoming carries no credentials, so every connection acts as one user: the local user on a server
without tokens, else ``WYOMING_USER``, which sees only the preset voices and no one's memories.
Audio in is converted to 16 kHz 16-bit mono; speech out is 16-bit mono PCM at OUTPUT_RATE.
"""

from __future__ import annotations

import asyncio
import logging

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize

from sayso import __version__
from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.audio.vad import speech_in
from sayso.errors import SaysoError
from sayso.server.backends import OUTPUT_RATE, from_pcm16
from sayso.server.fields import check_text
from sayso.server.responses import status_of
from sayso.server.security import LOCAL_USER
from sayso.server.workspace import Workspace
from sayso.voices.delivery import deliver

log = logging.getLogger("sayso.server")

WYOMING_USER = "wyoming"
CHUNK_BYTES = 2 * OUTPUT_RATE // 10
"""Speech goes out in 0.1 s chunks, as Home Assistant plays them."""
_ATTRIBUTION = Attribution(name="Sayso", url="https://github.com/")


class SaysoWyomingHandler(AsyncEventHandler):
    """One Wyoming connection: describe, transcribe (audio start/chunks/stop) and synthesize."""

    def __init__(self, workspace: Workspace, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.workspace = workspace
        self.user = WYOMING_USER if workspace.options.tokens else LOCAL_USER
        self._converter = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)
        self._audio: bytearray | None = None
        self._limit = int(workspace.settings.max_input_seconds * SAMPLE_RATE * 2)

    async def handle_event(self, event: Event) -> bool:
        """Answer one event; unknown events are dropped, as the protocol asks."""
        try:
            await self._handle(event)
        except SaysoError as error:
            _, code = status_of(error)
            await self.write_event(Error(text=str(error), code=code).event())
        return True

    async def _handle(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await self.write_event(self.info().event())
        elif Transcribe.is_type(event.type) or AudioStart.is_type(event.type):
            self._audio = bytearray()
        elif AudioChunk.is_type(event.type):
            await self._chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            await self._transcribe()
        elif Synthesize.is_type(event.type):
            await self._synthesize(Synthesize.from_event(event))

    def info(self) -> Info:
        """What this server offers: English STT and every voice the connection's user may use."""
        voices = [
            TtsVoice(name=v.id, attribution=_ATTRIBUTION, installed=True, description=v.name,
                     version=__version__, languages=["en"])
            for v in self.workspace.voices(self.user) if v.status == "active"
        ]  # fmt: skip
        model = AsrModel(name=self.workspace.settings.stt_model, attribution=_ATTRIBUTION, installed=True,
                         description="Whisper (faster-whisper)", version=__version__, languages=["en"])  # fmt: skip
        asr = AsrProgram(name="sayso-stt", attribution=_ATTRIBUTION, installed=True, description="Sayso speech-to-text",
                         version=__version__, models=[model])  # fmt: skip
        tts = TtsProgram(name="sayso-tts", attribution=_ATTRIBUTION, installed=True, version=__version__,
                         description="Sayso text-to-speech (consented voices only)", voices=voices)  # fmt: skip
        return Info(asr=[asr], tts=[tts])

    async def _chunk(self, chunk: AudioChunk) -> None:
        if self._audio is None:
            self._audio = bytearray()
        if chunk.width not in (1, 2, 4) or chunk.channels < 1 or chunk.rate <= 0:
            self._audio = None
            await self.write_event(Error(text="Audio chunks must be 8/16/32-bit PCM.", code="not_audio").event())
            return
        self._audio += self._converter.convert(chunk).audio
        if len(self._audio) > self._limit:
            self._audio = None
            await self.write_event(Error(text="The audio is longer than Sayso accepts.", code="too_long").event())

    async def _transcribe(self) -> None:
        data, self._audio = self._audio, None
        if data is None:
            return
        audio = Audio(from_pcm16(bytes(data[: len(data) - len(data) % 2])), SAMPLE_RATE)
        text = await asyncio.to_thread(self._text, audio)
        await self.write_event(Transcript(text=text).event())

    def _text(self, audio: Audio) -> str:
        if not len(audio.samples) or not speech_in(self.workspace.new_vad(), audio):
            return ""
        return self.workspace.models.stt.transcribe(audio).text

    async def _synthesize(self, request: Synthesize) -> None:
        text = " ".join(check_text(request.text).split())  # as every door: no NUL or lone surrogate
        name = request.voice.name if request.voice and request.voice.name else self.workspace.settings.voice
        voice = self.workspace.voice(self.user, name)
        audio = await asyncio.to_thread(self.workspace.models.tts(voice).synthesize, text) if text else None
        services = self.workspace.models.voice_services
        data = await asyncio.to_thread(deliver, services, [audio], "pcm", "Wyoming", OUTPUT_RATE) if audio else b""
        await self.write_event(AudioStart(rate=OUTPUT_RATE, width=2, channels=1).event())
        for start in range(0, len(data), CHUNK_BYTES):
            chunk = AudioChunk(rate=OUTPUT_RATE, width=2, channels=1, audio=data[start : start + CHUNK_BYTES])
            await self.write_event(chunk.event())
        await self.write_event(AudioStop().event())
