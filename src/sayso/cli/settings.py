"""``sayso settings``: every setting, its value here and where that value came from."""

from __future__ import annotations

import argparse
import os
from dataclasses import fields

from sayso.cli.common import Commands
from sayso.config import Settings, config_path, env_name, field_help, flag_name


def register(commands: Commands) -> None:
    commands.command("settings", cmd_settings, "List every setting, its value and where it came from.")


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    path = config_path()
    print(f"config file: {path}{'' if path.exists() else ' (none)'}")
    default = Settings()
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if getattr(args, f.name, None) is not None:
            source = f"flag {flag_name(f.name)}"
        elif env_name(f.name) in os.environ:
            source = f"${env_name(f.name)}"
        elif value != getattr(default, f.name):
            source = "config file"
        else:
            source = "default"
        print(f"{f.name} = {value!r}  ({source})\n    {field_help(f.name)}")
    return 0
