"""Conversation commands: talk (spoken), chat (typed) and reply (one spoken turn from a file)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sayso.audio import devices
from sayso.audio.frames import Audio
from sayso.audio.io import read_audio, write_audio
from sayso.cli.common import Commands
from sayso.config import Settings
from sayso.errors import EmptyAudio
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant, TurnTimings
from sayso.voices.catalog import find_voice

QUIT_WORDS = {"quit", "exit", "bye", "goodbye"}


def register(commands: Commands) -> None:
    commands.command("talk", cmd_talk, "Talk with Sayso through the microphone (typed input if there is none).")
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
    write_audio(args.output, Audio.concat(result.reply.audio, models.tts(assistant.voice).rate))
    print(f"you said:   {result.transcript}")
    print(f"reply:      {result.reply.text}")
    print(f"written to: {args.output}")
    print(f"models ready     {ready * 1000:7.0f} ms")
    print("\n".join(result.timings.lines()))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    assistant = Assistant(Models(settings), find_voice(settings.voice))
    print(f"Chatting with {settings.assistant_name}, an AI assistant. Type 'quit' or press Ctrl-D to stop.")
    while (line := _prompt("you> ")) is not None:
        if not line:
            continue
        print(f"{settings.assistant_name.lower()}> ", end="", flush=True)
        pieces: list[str] = []
        for piece in assistant.think(line):
            pieces.append(piece)
            print(piece, end="", flush=True)
        print()
        assistant.remember(line, "".join(pieces))
    return 0


def cmd_talk(args: argparse.Namespace, settings: Settings) -> int:
    models = Models(settings)
    assistant = Assistant(models, find_voice(settings.voice))
    speakers = devices.has_device("output")
    microphone = devices.has_device("input")
    replies_dir = settings.data_dir / "replies"
    print(f"Talking with {settings.assistant_name}, an AI assistant, in the voice {assistant.voice.id}.")
    if not microphone:
        where = "played on the speakers" if speakers else f"saved as files in {replies_dir}"
        print(f"No microphone was found, so type what you want to say; replies are spoken and {where}.")
        print("Type 'quit' or press Ctrl-D to stop.")
    turn = 0
    while True:
        user_text = _heard(assistant) if microphone else _prompt("you> ")
        if user_text is None:
            return 0
        if not user_text:
            continue
        turn += 1
        print(f"{settings.assistant_name.lower()}> ", end="", flush=True)
        spoken: list[Audio] = []
        for clause, audio in assistant.speak(user_text, TurnTimings(), since=time.perf_counter()):
            print(clause, end=" ", flush=True)
            if speakers:
                devices.play(audio)
            spoken.append(audio)
        print()
        if not speakers and spoken:
            path = write_audio(
                replies_dir / f"reply-{int(time.time())}-{turn}.wav", Audio.concat(spoken, spoken[0].rate)
            )
            print(f"  (spoken reply saved to {path})")


def _heard(assistant: Assistant) -> str | None:
    print("(listening…)", flush=True)
    try:
        text = assistant.listen(devices.record_utterance(assistant.models.vad))
    except EmptyAudio:
        return ""
    print(f"you> {text}")
    return None if text.strip(" .!").lower() in QUIT_WORDS else text


def _prompt(label: str) -> str | None:
    """A typed line; None at end of input or a quit word."""
    try:
        line = input(label).strip()
    except EOFError:
        print()
        return None
    return None if line.lower() in QUIT_WORDS else line
