"""Conversation commands: talk (spoken), chat (typed) and reply (one spoken turn from a file)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sayso.audio import devices
from sayso.audio.frames import Audio
from sayso.audio.io import read_audio
from sayso.cli.common import Commands, output_file
from sayso.config import Settings
from sayso.errors import BackendError, DeviceError, InputError
from sayso.mind import embed
from sayso.realtime import events as ev
from sayso.realtime.engine import Engine
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant, TurnTimings
from sayso.voices.catalog import find_voice
from sayso.voices.delivery import write_delivered
from sayso.voices.speaker import VoiceServices

QUIT_WORDS = {"quit", "exit", "bye", "goodbye"}
GOODBYE = "Goodbye! Talk to you soon."
KEEP_REPLIES = 20


def register(commands: Commands) -> None:
    talk = commands.command("talk", cmd_talk, "Talk with Sayso through the microphone (typed input if there is none).")
    talk.add_argument("--metrics", action="store_true", help="show each turn's latency (end of turn to first audio)")
    commands.command("chat", cmd_chat, "Chat with Sayso in text.")
    reply = commands.command("reply", cmd_reply, "Answer one spoken question from a file with a spoken reply.")
    reply.add_argument("input", type=Path, help="the question: a WAV, FLAC, OGG or MP3 file")
    reply.add_argument("-o", "--output", type=output_file, required=True, help="where to write the spoken reply")


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
    name = settings.assistant_name.lower()
    print(f"Chatting with {settings.assistant_name}, an AI assistant. Type 'quit' or press Ctrl-D to stop.")

    def turn(line: str) -> None:
        print(f"{name}> ", end="", flush=True)
        pieces: list[str] = []
        for clause in assistant.think(line):
            print(("" if not pieces else " ") + clause, end="", flush=True)
            pieces.append(clause)
        print()
        assistant.remember(line, " ".join(pieces))

    def announce(text: str) -> None:
        print(f"\r{name}> {text}\nyou> ", end="", flush=True)

    warm = lambda: assistant.models.llm  # noqa: E731
    return _typed_conversation(assistant, name, warm, turn, announce, lambda text: print(f"{name}> {text}"))


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
    except KeyboardInterrupt:  # Ctrl-C is how a spoken conversation ends: not an error
        print()
    finally:
        speakers.close()
    _say_typed(settings.assistant_name.lower(), None, [(GOODBYE, models.tts(assistant.voice).synthesize(GOODBYE))])
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
    where = "played on the speakers" if speakers else f"saved as files in {replies_dir} (the last {KEEP_REPLIES} kept)"
    print(f"No microphone was found, so type what you want to say; replies are spoken and {where}.")
    print("Type 'quit' or press Ctrl-D to stop. Timers are announced when they fall due.")
    name = settings.assistant_name.lower()

    def spoken(text: str) -> list[tuple[str, Audio]]:
        return [(text, assistant.models.tts(assistant.voice).synthesize(text))]

    def say(lines: Iterable[tuple[str, Audio]], prompt_after: bool = False) -> None:
        _say_typed(name, None if speakers else (assistant.models.voice_services, replies_dir), lines)
        if prompt_after:
            print("you> ", end="", flush=True)

    def turn(line: str) -> None:
        say(assistant.speak(line, TurnTimings(), since=time.perf_counter()))

    def announce(text: str) -> None:
        print("\r", end="")
        say(spoken(text), prompt_after=True)

    warm = lambda: assistant.models.warm(assistant.voice)  # noqa: E731
    return _typed_conversation(assistant, name, warm, turn, announce, lambda text: say(spoken(text)))


def _typed_conversation(
    assistant: Assistant,
    name: str,
    warm: Callable[[], object],
    turn: Callable[[str], None],
    announce: Callable[[str], None],
    farewell: Callable[[str], None],
) -> int:
    """The typed loop of `chat` and microphone-less `talk`: a failed turn is reported and the
    conversation goes on; timers are announced while the user is at the prompt; quitting (a quit
    word, Ctrl-D or Ctrl-C) says goodbye and ends with exit code 0. The models load (``warm``)
    while the user types the first line, not after it."""
    loading = threading.Thread(target=warm, name="warm", daemon=True)
    loading.start()
    announcer = _Announcer(assistant, announce)
    try:
        while (line := _prompt("you> ")) is not None:
            if not line:
                continue
            loading.join()
            with announcer.lock:
                try:
                    turn(line)
                except (InputError, BackendError) as error:  # e.g. a line too long, the LLM server down
                    print(f"\nsayso: {error}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print()
    finally:
        announcer.stop()
    farewell(GOODBYE)
    return 0


class _Announcer:
    """Says the timers, alarms and reminders that fall due while the user sits at the prompt.

    ``lock`` is held during a turn, so an announcement never lands in the middle of a reply.
    """

    def __init__(self, assistant: Assistant, announce: Callable[[str], None], every: float = 0.5) -> None:
        self.assistant, self.announce, self.every = assistant, announce, every
        self.lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.every):
            with self.lock:
                for text in self.assistant.mind.due_announcements():
                    self.announce(text)

    def stop(self) -> None:
        """Stop announcing (waits for an announcement under way)."""
        self._stopped.set()
        self._thread.join()


def _say_typed(name: str, replies: tuple[VoiceServices, Path] | None, spoken: Iterable[tuple[str, Audio]]) -> None:
    """Print each clause as it comes and play it, or save the whole reply to a file in ``replies``'s
    folder, recorded as delivered (the last ``KEEP_REPLIES`` kept)."""
    print(f"{name}> ", end="", flush=True)
    pieces: list[Audio] = []
    for clause, audio in spoken:
        print(clause, end=" ", flush=True)
        if replies is None:
            devices.play(audio)
        pieces.append(audio)
    print()
    if replies is not None and pieces:
        services, folder = replies
        path = write_delivered(services, folder / f"reply-{time.time_ns()}.wav", pieces, "sayso talk")
        _keep_newest(folder, KEEP_REPLIES)
        print(f"  (spoken reply saved to {path})")


def _keep_newest(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest saved replies, so they do not pile up for ever."""
    for old in sorted(folder.glob("reply-*.wav"))[:-keep]:
        old.unlink(missing_ok=True)


def _prompt(label: str) -> str | None:
    """A typed line; None at end of input or a quit word."""
    try:
        line = input(label).strip()
    except EOFError:
        print()
        return None
    return None if line.lower() in QUIT_WORDS else line
