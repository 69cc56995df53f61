"""What every command module shares: exit codes, the shape of a command, and how to add one."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from sayso.config import Settings

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace, Settings], int]


class Commands:
    """Adds subcommands (``sayso NAME``) and groups of them (``sayso GROUP NAME``).

    Every subcommand takes every setting as a flag and runs ``run(args, settings)``.
    """

    def __init__(self, subparsers: Any, settings_flags: argparse.ArgumentParser) -> None:
        self._top = subparsers
        self._flags = settings_flags
        self._groups: dict[str, Any] = {}

    def command(self, name: str, run: Command, help_text: str, group: str | None = None) -> argparse.ArgumentParser:
        """Add ``sayso [GROUP] NAME`` and return its parser, for its own arguments."""
        where = self._groups[group] if group else self._top
        parser: argparse.ArgumentParser = where.add_parser(
            name, parents=[self._flags], help=help_text, description=help_text
        )
        parser.set_defaults(run=run)
        return parser

    def group(self, name: str, help_text: str, default: Command | None = None) -> argparse.ArgumentParser:
        """Add ``sayso NAME SUBCOMMAND``; with ``default``, plain ``sayso NAME`` runs it."""
        parser: argparse.ArgumentParser = self._top.add_parser(
            name, parents=[self._flags], help=help_text, description=help_text
        )
        self._groups[name] = parser.add_subparsers(dest=f"{name}_command", required=default is None, metavar="COMMAND")
        if default is not None:
            parser.set_defaults(run=default)
        return parser
