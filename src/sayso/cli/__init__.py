"""The ``sayso`` command. Library errors become one clear sentence and a non-zero exit here.

Each command module has a ``register(commands)`` function that adds its subcommands (see
``sayso.cli.common.Commands``); a subcommand runs ``run(args, settings) -> exit code``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from importlib.metadata import version

from sayso.cli import conversation, likeness, memory, serve, settings, speech, voices
from sayso.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, Command, Commands
from sayso.config import Settings, flag_name, load_settings
from sayso.errors import SaysoError

GROUPS: tuple[Callable[[Commands], None], ...] = (
    conversation.register,
    speech.register,
    voices.register,
    serve.register,
    likeness.register,
    memory.register,
    settings.register,
)

__all__ = ["EXIT_ERROR", "build_parser", "main"]

SETTINGS_EPILOG = (
    "Every setting (voice, stt_model, llm_url, ...) can also be given to any command as a flag "
    "(--voice NAME), a SAYSO_<KEY> variable or a config.toml key: `sayso settings` lists them all."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings({f.name: getattr(args, f.name, None) for f in fields(Settings)})
        command: Command = args.run
        return command(args, settings)
    except SaysoError as error:
        print(f"sayso: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    """The ``sayso`` parser. Every subcommand takes every setting as a flag; its help leaves them out
    (26 lines of settings buried each command's own arguments) and points to ``sayso settings``."""
    settings_flags = argparse.ArgumentParser(add_help=False)
    for f in fields(Settings):
        settings_flags.add_argument(flag_name(f.name), dest=f.name, default=None, help=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="sayso",
        description="A private voice assistant that speaks only in consented voices.",
        epilog=SETTINGS_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"sayso {version('sayso')}")
    commands = Commands(
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), settings_flags, SETTINGS_EPILOG
    )
    for register in GROUPS:
        register(commands)
    return parser
