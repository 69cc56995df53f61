"""The Wyoming server, driven by the ``wyoming`` package's own client over loopback TCP."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.server import AsyncTcpServer
from wyoming.tts import Synthesize, SynthesizeVoice

from sayso.audio.frames import Audio
from sayso.realtime.models import Models
from sayso.server.backends import OUTPUT_RATE
from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace
from sayso.server.wyoming import SaysoWyomingHandler
from sayso.speech.normalize import normalize
from sayso.voices.catalog import find_voice
from tests.server.conftest import FakeEmbedder, fake_workspace, free_port

Session = Callable[[AsyncTcpClient], Awaitable[None]]


def run_with_server(workspace: Workspace, session: Session) -> None:
    """Serve Wyoming on a free loopback port, run ``session`` with a connected client, stop."""

    async def main() -> None:
        port = free_port()
        server = AsyncTcpServer("127.0.0.1", port)
        task = asyncio.create_task(server.run(functools.partial(SaysoWyomingHandler, workspace)))
        await asyncio.sleep(0.2)
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await session(client)
        finally:
            task.cancel()

    asyncio.run(main())


async def receive(client: AsyncTcpClient) -> Event:
    event = await asyncio.wait_for(client.read_event(), timeout=60)
    assert event is not None, "the server closed the connection"
    return event


async def send_audio(client: AsyncTcpClient, audio: Audio) -> None:
    """Audio as Home Assistant sends it: transcribe, audio-start, 0.1 s chunks, audio-stop."""
    pcm = audio.to_int16().tobytes()
    fmt = {"rate": audio.rate, "width": 2, "channels": 1}
    await client.write_event(Transcribe(language="en").event())
    await client.write_event(AudioStart(**fmt).event())
    step = audio.rate // 10 * 2
    for start in range(0, len(pcm), step):
        await client.write_event(AudioChunk(audio=pcm[start : start + step], **fmt).event())
    await client.write_event(AudioStop().event())


async def synthesize(client: AsyncTcpClient, text: str, voice: str | None) -> tuple[AudioStart, bytes]:
    await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name=voice) if voice else None).event())
    start = AudioStart.from_event(await receive(client))
    data = b""
    while AudioChunk.is_type((event := await receive(client)).type):
        data += AudioChunk.from_event(event).audio
    assert AudioStop.is_type(event.type)
    return start, data


@pytest.mark.models
def test_describe_transcribe_and_synthesize_with_real_models(models: Models) -> None:
    workspace = Workspace(models, ServerOptions(), embedder=FakeEmbedder)
    question = models.tts(find_voice("joe")).synthesize("Turn on the kitchen lights.").resampled(22_050)

    async def session(client: AsyncTcpClient) -> None:
        await client.write_event(Describe().event())
        info = Info.from_event(await receive(client))
        assert info.asr[0].models[0].languages == ["en"]
        assert "joe" in [voice.name for voice in info.tts[0].voices]
        await send_audio(client, question)  # 22.05 kHz in: the server converts it
        transcript = Transcript.from_event(await receive(client))
        # Piper's synthesis is sampled, so Whisper may drop or mishear a word; the content must arrive.
        assert "kitchen lights" in normalize(transcript.text)
        start, data = await synthesize(client, "Hello from Sayso.", "joe")
        samples = np.frombuffer(data, dtype="<i2")
        assert (start.rate, start.width, start.channels) == (OUTPUT_RATE, 2, 1)
        assert 0.5 < len(samples) / OUTPUT_RATE < 3.0 and np.abs(samples).max() > 1000

    run_with_server(workspace, session)


def test_unknown_voices_get_an_error_and_the_connection_goes_on() -> None:
    workspace = fake_workspace()

    async def session(client: AsyncTcpClient) -> None:
        await client.write_event(Synthesize(text="Hello", voice=SynthesizeVoice(name="alloy")).event())
        error = Error.from_event(await receive(client))
        assert error.code == "unknown_voice" and "alloy" in error.text
        _, data = await synthesize(client, "Hi.", None)  # the default voice still works
        assert len(data) == 2 * round(0.05 * 3 * OUTPUT_RATE)
        await send_audio(client, Audio(np.zeros(8000, dtype=np.float32), 16_000))
        assert Transcript.from_event(await receive(client)).text == ""  # silence: no words

    run_with_server(workspace, session)


def test_chunks_with_a_bad_format_are_refused() -> None:
    workspace = fake_workspace()

    async def session(client: AsyncTcpClient) -> None:
        await client.write_event(AudioChunk(rate=16_000, width=3, channels=1, audio=b"\x00" * 30).event())
        assert Error.from_event(await receive(client)).code == "not_audio"
        await send_audio(client, Audio(np.full(16_000, 0.3, dtype=np.float32), 16_000))
        assert Transcript.from_event(await receive(client)).text == "What is the capital of France?"

    run_with_server(workspace, session)


def test_text_that_is_not_text_gets_an_error_and_the_connection_goes_on() -> None:
    workspace = fake_workspace()

    async def session(client: AsyncTcpClient) -> None:
        await client.write_event(Synthesize(text="Hello\u0000there").event())
        error = Error.from_event(await receive(client))
        assert error.code == "invalid_request" and "U+0000" in error.text
        _, data = await synthesize(client, "Hi.", None)  # the next request is answered
        assert len(data) == 2 * round(0.05 * 3 * OUTPUT_RATE)

    run_with_server(workspace, session)
