"""Conversation commands: talk (spoken), chat (typed) and reply (one spoken turn from a file)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from sayso.audio import devices
from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.cli.common import Commands
from sayso.config import Settings
from sayso.errors import DeviceError, InputError
from sayso.mind import embed
from sayso.realtime import events as ev
from sayso.realtime.engine import Engine
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant, TurnTimings
from sayso.voices.catalog import find_voice
from sayso.voices.delivery import write_delivered

QUIT_WORDS = {"quit", "exit", "bye", "goodbye"}


def register(commands: Commands) -> None:
    talk = commands.command("talk", cmd_talk, "Talk with Sayso through the microphone (typed input if there is none).")
    talk.add_argument("--metrics", action="store_true", help="show each turn's latency (end of turn to first audio)")
    commands.command("chat", cmd_chat, "Chat with Sayso in text.")
    reply = commands.command("reply", cmd_reply, "Answer one spoken question from a file with a spoken reply.")
    reply.add_argument("input", type=Path, help="the question: a WAV, FLAC, OGG or MP3 file")
    reply.add_argument("-o", "--output", type=Path, required=True, help="where to write the spoken reply")


def cmd_reply(args: argparse.Namespace, settings: Settings) -> int:
    models = Models(settings)
    assistant = Assistant(models, find_voice(settings.voice))
    question = read_audio(args.input, settings.max_input_seconds)
    ready = models.warm(assistant.voice)
    result = assistant.reply_to(question)
    write_delivered(models.voice_services, args.output, result.reply.audio, "sayso reply")
    print(f"you said:   {result.transcript}")
    print(f"reply:      {result.reply.text}")
    print(f"written to: {args.output}")
    print(f"models ready     {ready * 1000:7.0f} ms")
    print("\n".join(result.timings.lines()))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    assistant = Assistant(Models(settings), find_voice(settings.voice))
    embed.preload()
    print(f"Chatting with {settings.assistant_name}, an AI assistant. Type 'quit' or press Ctrl-D to stop.")
    while (line := _prompt("you> ")) is not None:
        if not line:
            continue
        print(f"{settings.assistant_name.lower()}> ", end="", flush=True)
        pieces: list[str] = []
        try:
            for clause in assistant.think(line):
                print(("" if not pieces else " ") + clause, end="", flush=True)
                pieces.append(clause)
        except InputError as error:  # e.g. a line too long for the model: say so, and let them go on
            print(f"\nsayso: {error}", file=sys.stderr, flush=True)
            continue
        print()
        assistant.remember(line, " ".join(pieces))
    return 0


def cmd_talk(args: argparse.Namespace, settings: Settings) -> int:
    models = Models(settings)
    assistant = Assistant(models, find_voice(settings.voice))
    embed.preload()
    print(f"Talking with {settings.assistant_name}, an AI assistant, in the voice {assistant.voice.id}.")
    if not devices.has_device("input"):
        return _typed_talk(assistant, settings, devices.has_device("output"))
    if not devices.has_device("output"):
        raise DeviceError("No speakers were found; connect speakers or headphones, or use `sayso chat`.")
    print("Loading the models…", flush=True)
    models.warm(assistant.voice)
    print("Speak when you like; interrupt Sayso by talking. Say 'goodbye' or press Ctrl-C to stop.")
    speakers = devices.Speakers()
    engine = Engine(assistant)
    engine.listeners.append(_TalkPrinter(engine, settings.assistant_name, args.metrics))
    try:
        asyncio.run(engine.run(devices.microphone_frames(), speakers))
    finally:
        speakers.close()
    return 0


class _TalkPrinter:
    """Shows the conversation as the engine reports it (and each turn's latency with --metrics)."""

    def __init__(self, engine: Engine, name: str, metrics: bool) -> None:
        self.engine, self.name, self.metrics = engine, name.lower(), metrics

    def __call__(self, event: ev.Outbound) -> None:
        match event:
            case ev.FinalTranscript(text=text):
                print(f"you> {text}", flush=True)
                if text.strip(" .!").lower() in QUIT_WORDS:
                    self.engine.stop()
                else:
                    print(f"{self.name}> ", end="", flush=True)
            case ev.ReplyClause(text=text):
                print(text, end=" ", flush=True)
            case ev.Interrupted():
                print("(interrupted)", flush=True)
            case ev.ReplyFinished():
                print(flush=True)
            case ev.MetricsReady(metrics=metrics) if self.metrics:
                print(f"  [{metrics.line()}]", flush=True)
            case _:
                pass


def _typed_talk(assistant: Assistant, settings: Settings, speakers: bool) -> int:
    replies_dir = settings.data_dir / "replies"
    where = "played on the speakers" if speakers else f"saved as files in {replies_dir}"
    print(f"No microphone was found, so type what you want to say; replies are spoken and {where}.")
    print("Type 'quit' or press Ctrl-D to stop. Timers that fall due are announced before each prompt.")
    turn = 0
    while True:
        for text in assistant.mind.due_announcements():
            turn += 1
            _say_typed(
                assistant, settings, speakers, turn, [(text, assistant.models.tts(assistant.voice).synthesize(text))]
            )
        user_text = _prompt("you> ")
        if user_text is None:
            return 0
        if user_text:
            turn += 1
            spoken = assistant.speak(user_text, TurnTimings(), since=time.perf_counter())
            try:
                _say_typed(assistant, settings, speakers, turn, spoken)
            except InputError as error:  # as in `chat`: said, and the conversation goes on
                print(f"\nsayso: {error}", file=sys.stderr, flush=True)


def _say_typed(
    assistant: Assistant, settings: Settings, speakers: bool, turn: int, spoken: Iterable[tuple[str, Audio]]
) -> None:
    """Print each clause as it comes and play it, or save the whole reply to a file."""
    print(f"{settings.assistant_name.lower()}> ", end="", flush=True)
    pieces: list[Audio] = []
    for clause, audio in spoken:
        print(clause, end=" ", flush=True)
        if speakers:
            devices.play(audio)
        pieces.append(audio)
    print()
    if not speakers and pieces:
        name = f"reply-{int(time.time())}-{turn}.wav"
        services = assistant.models.voice_services
        path = write_delivered(services, settings.data_dir / "replies" / name, pieces, "sayso talk")
        print(f"  (spoken reply saved to {path})")


def _prompt(label: str) -> str | None:
    """A typed line; None at end of input or a quit word."""
    try:
        line = input(label).strip()
    except EOFError:
        print()
        return None
    return None if line.lower() in QUIT_WORDS else line
