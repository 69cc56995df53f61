"""Speech commands: transcribe and say."""

from __future__ import annotations

import argparse
from pathlib import Path

from sayso.audio.io import read_audio
from sayso.cli.common import Commands, output_file
from sayso.config import Settings
from sayso.errors import EmptyAudio
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant
from sayso.voices.catalog import find_voice
from sayso.voices.delivery import write_delivered


def register(commands: Commands) -> None:
    transcribe = commands.command("transcribe", cmd_transcribe, "Write down what is said in audio files.")
    transcribe.add_argument("files", type=Path, nargs="+", help="WAV, FLAC, OGG or MP3 files")
    say = commands.command("say", cmd_say, "Speak a text into an audio file.")
    say.add_argument("text", help="what to say")
    say.add_argument(
        "-o", "--output", type=output_file, required=True, help="where to write the speech (.wav, .flac, .ogg, .mp3)"
    )


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
    models = Models(settings)
    voice = find_voice(settings.voice, models.voice_services.store)  # lent voices too, refused if revoked
    audio = models.tts(voice).synthesize(text)
    print(write_delivered(models.voice_services, args.output, [audio], "sayso say"))
    return 0
