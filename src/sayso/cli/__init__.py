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

from sayso.cli import conversation, likeness, memory, serve, speech, voices
from sayso.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, Command, Commands
from sayso.config import Settings, field_help, flag_name, load_settings
from sayso.errors import SaysoError

GROUPS: tuple[Callable[[Commands], None], ...] = (
    conversation.register,
    speech.register,
    voices.register,
    serve.register,
    likeness.register,
    memory.register,
)

__all__ = ["EXIT_ERROR", "build_parser", "main"]


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
    settings_flags = argparse.ArgumentParser(add_help=False)
    group = settings_flags.add_argument_group("settings (also SAYSO_<KEY> variables and config.toml keys)")
    for f in fields(Settings):
        group.add_argument(
            flag_name(f.name), dest=f.name, default=None, metavar=f.name.upper(), help=field_help(f.name)
        )
    parser = argparse.ArgumentParser(
        prog="sayso", description="A private voice assistant that speaks only in consented voices."
    )
    commands = Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), settings_flags)
    for register in GROUPS:
        register(commands)
    return parser
