"""What every command module shares: exit codes, the shape of a command, and how to add one."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sayso.audio.io import WRITABLE
from sayso.config import Settings

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace, Settings], int]


class Commands:
    """Adds subcommands (``sayso NAME``) and groups of them (``sayso GROUP NAME``).

    Every subcommand takes every setting as a flag and runs ``run(args, settings)``.
    """

    def __init__(self, subparsers: Any, settings_flags: argparse.ArgumentParser, epilog: str = "") -> None:
        self.epilog = epilog
        self._top = subparsers
        self._flags = settings_flags
        self._groups: dict[str, Any] = {}

    def command(self, name: str, run: Command, help_text: str, group: str | None = None) -> argparse.ArgumentParser:
        """Add ``sayso [GROUP] NAME`` and return its parser, for its own arguments."""
        where = self._groups[group] if group else self._top
        parser: argparse.ArgumentParser = where.add_parser(
            name, parents=[self._flags], help=help_text, description=help_text, epilog=self.epilog
        )
        parser.set_defaults(run=run)
        return parser

    def group(self, name: str, help_text: str, default: Command | None = None) -> argparse.ArgumentParser:
        """Add ``sayso NAME SUBCOMMAND``; with ``default``, plain ``sayso NAME`` runs it."""
        parser: argparse.ArgumentParser = self._top.add_parser(
            name, parents=[self._flags], help=help_text, description=help_text, epilog=self.epilog
        )
        self._groups[name] = parser.add_subparsers(dest=f"{name}_command", required=default is None, metavar="COMMAND")
        if default is not None:
            parser.set_defaults(run=default)
        return parser


def output_file(text: str) -> Path:
    """An argparse type for an audio file to write: a known format, in a folder that exists.

    Checked before any work is done, and never creating folders: a typo such as
    ``-o /nonexistent-dir/x.wav`` must not make a folder at the root of the file system.
    """
    path = Path(text).expanduser()
    if path.suffix.lower() not in WRITABLE:
        raise argparse.ArgumentTypeError(f"end the file name in {', '.join(WRITABLE)}, not {path.name!r}")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {path.parent} does not exist")
    return path
