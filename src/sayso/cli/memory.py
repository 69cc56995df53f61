"""Memory and companion commands: what Sayso remembers, what is scheduled, and the safeguard report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sayso.cli.common import Commands
from sayso.config import Settings
from sayso.errors import InputError
from sayso.mind.companion import EVENTS, SafeguardLog
from sayso.mind.embed import minilm
from sayso.mind.memory import MemoryStore
from sayso.mind.skills.schedule import Schedule
from sayso.mind.skills.when import spoken_time
from sayso.store.db import Database


def register(commands: Commands) -> None:
    commands.group("memory", "What Sayso remembers about you (per user: see --user).", default=cmd_list)
    commands.command("list", cmd_list, "List remembered facts with their numbers.", "memory")
    edit = commands.command("edit", cmd_edit, "Change the words of a remembered fact.", "memory")
    edit.add_argument("id", type=int, help="the fact's number (see `sayso memory list`)")
    edit.add_argument("text", help="the new words")
    export = commands.command("export", cmd_export, "Write every remembered fact as JSON.", "memory")
    export.add_argument("-o", "--output", type=Path, help="the file to write (default: print)")
    delete = commands.command("delete", cmd_delete, "Forget facts by number, or all of them.", "memory")
    delete.add_argument("ids", type=int, nargs="*", help="the facts' numbers")
    delete.add_argument("--all", action="store_true", help="forget every fact of this user")
    commands.group("reminders", "List pending timers, alarms and reminders.", default=cmd_reminders)
    commands.group("safeguards", "Companion safeguards.")
    commands.command("report", cmd_report, "Count safeguard events (no content is kept).", "safeguards")


def _store(settings: Settings) -> MemoryStore:
    return MemoryStore(Database.in_data_dir(settings.data_dir), settings.user, minilm)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    memories = store.all()
    state = "on" if settings.memory != "off" and store.enabled else "off"
    print(f"{len(memories)} remembered fact(s) for user {settings.user!r} (memory is {state}).")
    for memory in memories:
        day = time.strftime("%Y-%m-%d", time.localtime(memory.created_at))
        print(f"{memory.id:>5}  {day}  {memory.text}")
    return 0


def cmd_edit(args: argparse.Namespace, settings: Settings) -> int:
    text = " ".join(args.text.split())
    if not text:
        raise InputError("The new words are empty; give the fact's new text, or delete it with `sayso memory delete`.")
    memory = _store(settings).update(args.id, text)
    print(f"{memory.id:>5}  {memory.text}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    data = _store(settings).export()
    if args.output is None:
        print(data)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(data + "\n", encoding="utf-8")
    print(f"Wrote {args.output}")
    return 0


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.ids) == bool(args.all):
        raise InputError("Give the numbers of the facts to forget, or --all (not both); see `sayso memory list`.")
    store = _store(settings)
    count = store.delete_all() if args.all else store.delete(args.ids)
    print(f"Forgot {count} fact(s).")
    return 0


def cmd_reminders(args: argparse.Namespace, settings: Settings) -> int:
    entries = Schedule(Database.in_data_dir(settings.data_dir), settings.user).pending()
    now = time.time()
    print(f"{len(entries)} pending timer(s), alarm(s) and reminder(s) for user {settings.user!r}.")
    for entry in entries:
        print(f"{entry.id:>5}  {entry.kind:<8}  {spoken_time(entry.fire_at, now):<28}  {entry.label}")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    log = SafeguardLog(Database.in_data_dir(settings.data_dir))
    totals = log.totals()
    days = sorted({day for day, _, _ in log.by_day()})
    span = f"{days[0]} to {days[-1]}" if days else "no days yet"
    print(f"Safeguard events ({span}); counts only, no content is kept:")
    for event in EVENTS:
        print(f"  {event:<24} {totals.get(event, 0):>6}")
    return 0
