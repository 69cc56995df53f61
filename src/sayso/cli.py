"""The ``sayso`` command. Library errors become one clear sentence and a non-zero exit here."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path

from sayso.audio import devices
from sayso.audio.frames import Audio
from sayso.audio.io import read_audio, write_audio
from sayso.config import Settings, field_help, flag_name, load_settings
from sayso.errors import EmptyAudio, SaysoError
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant, TurnTimings
from sayso.voices.catalog import all_voices, find_voice

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
QUIT_WORDS = {"quit", "exit", "bye", "goodbye"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings({f.name: getattr(args, f.name, None) for f in fields(Settings)})
        command: Callable[[argparse.Namespace, Settings], int] = args.run
        return command(args, settings)
    except SaysoError as error:
        print(f"sayso: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    settings_flags = argparse.ArgumentParser(add_help=False)
    group = settings_flags.add_argument_group("settings (also SAYSO_<KEY> variables and config.toml keys)")
    for f in fields(Settings):
        group.add_argument(
            flag_name(f.name), dest=f.name, default=None, metavar=f.name.upper(), help=field_help(f.name)
        )

    parser = argparse.ArgumentParser(
        prog="sayso", description="A private voice assistant that speaks only in consented voices."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, run: Callable[[argparse.Namespace, Settings], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[settings_flags], help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    add("talk", cmd_talk, "Talk with Sayso through the microphone (typed input if there is none).")
    add("chat", cmd_chat, "Chat with Sayso in text.")
    reply = add("reply", cmd_reply, "Answer one spoken question from a file with a spoken reply.")
    reply.add_argument("input", type=Path, help="the question: a WAV, FLAC, OGG or MP3 file")
    reply.add_argument("-o", "--output", type=Path, required=True, help="where to write the spoken reply")
    transcribe = add("transcribe", cmd_transcribe, "Write down what is said in audio files.")
    transcribe.add_argument("files", type=Path, nargs="+", help="WAV, FLAC, OGG or MP3 files")
    say = add("say", cmd_say, "Speak a text into an audio file.")
    say.add_argument("text", help="what to say")
    say.add_argument(
        "-o", "--output", type=Path, required=True, help="where to write the speech (.wav, .flac, .ogg, .mp3)"
    )
    add("voices", cmd_voices, "List the voices Sayso may speak in, with their provenance.")
    return parser


def cmd_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    models = Models(settings)
    assistant = Assistant(models, find_voice(settings.voice))
    for path in args.files:
        text = assistant.listen(read_audio(path, settings.max_input_seconds))
        print(f"{path}: {text}" if len(args.files) > 1 else text)
    return 0


def cmd_say(args: argparse.Namespace, settings: Settings) -> int:
    text = " ".join(args.text.split())
    if not text:
        raise EmptyAudio("There is nothing to say: give some text.")
    voice = find_voice(settings.voice)
    audio = Models(settings).tts(voice).synthesize(text)
    print(write_audio(args.output, audio))
    return 0


def cmd_voices(args: argparse.Namespace, settings: Settings) -> int:
    for voice in all_voices():
        mark = "*" if voice.id == settings.voice else " "
        print(f"{mark} {voice.id:<12} {voice.status:<7} {voice.description}")
        print(f"  {'':<12} source:  {voice.provenance.source}")
        print(f"  {'':<12} licence: {voice.provenance.licence}; consent: {voice.provenance.consent}")
    return 0


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
        for piece in assistant.think(line):
            print(piece, end="", flush=True)
        print()
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


if __name__ == "__main__":
    raise SystemExit(main())
