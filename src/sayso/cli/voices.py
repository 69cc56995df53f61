"""Voice commands: the catalog, lending and revoking a voice, the ledger and provenance checks.

Lending is two runs of ``sayso voices lend``: first with ``--name`` (it prints a statement with a
fresh challenge phrase to read aloud), then with ``--session`` and the recordings.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from sayso.audio.io import read_audio
from sayso.cli.common import Commands
from sayso.config import Settings
from sayso.errors import InputError
from sayso.realtime.models import Models
from sayso.voices import checkpoint as checkpoints
from sayso.voices.catalog import Voice, all_voices
from sayso.voices.consent import Checks, Scope, Session
from sayso.voices.keys import key_path
from sayso.voices.provenance import check_file
from sayso.voices.revocations import revocation_list
from sayso.voices.speaker import VoiceServices
from sayso.voices.standing import ledger_status


def register(commands: Commands) -> None:
    commands.group(
        "voices", "List the voices Sayso may speak in, with their provenance and consent.", default=cmd_voices
    )
    lend = commands.command(
        "lend", cmd_lend, "Lend your voice: first --name, then --session with recordings.", "voices"
    )
    lend.add_argument("--name", help="step 1: your name, as you will say it")
    lend.add_argument("--who", default=Scope.who, help="step 1: who may use the voice")
    lend.add_argument("--purpose", default=Scope.purpose, help="step 1: what the voice may be used for")
    lend.add_argument("--until", default="", help="step 1: last day of consent, YYYY-MM-DD (default: until revoked)")
    lend.add_argument("--session", help="step 2: the session id step 1 printed")
    lend.add_argument(
        "--samples", type=Path, nargs="+", help="step 2: recordings of your voice (8 s of speech or more)"
    )
    lend.add_argument("--consent", type=Path, help="step 2: your recording of the statement step 1 printed")
    lend.add_argument("--tts-url", default="", help="step 2: base URL of the cloning TTS server (OpenAI-style)")
    lend.add_argument("--tts-model", default="tts-1", help="step 2: model name sent to that server")
    lend.add_argument("--reference-field", default="reference_audio", help="step 2: JSON field for the reference WAV")
    revoke = commands.command(
        "revoke", cmd_revoke, "Withdraw a lent voice: its owner (by recording) or an admin.", "voices"
    )
    revoke.add_argument("voice_id", metavar="ID", help="the lent voice")
    revoke.add_argument("--session", help="owner, step 2: the session id step 1 printed")
    revoke.add_argument("--recording", type=Path, help="owner, step 2: your recording of the printed statement")
    revoke.add_argument("--admin", action="store_true", help="revoke as this installation's administrator")
    revoke.add_argument("--reason", default="", help="admin: why, for the ledger")
    revoke.add_argument("--yes", action="store_true", help="admin: do not ask for confirmation")
    commands.group("ledger", "Check or export the signed consent and provenance ledger.")
    verify = commands.command(
        "verify", cmd_ledger_verify, "Check the ledger's chain, signatures, checkpoint and voice statuses.", "ledger"
    )
    verify.add_argument(
        "--checkpoint", type=Path, help="also hold the ledger to this older checkpoint or ledger export you kept"
    )
    export = commands.command("export", cmd_ledger_export, "Write the ledger as JSON anyone can verify.", "ledger")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    revocations = commands.command(
        "revocations", cmd_ledger_revocations, "Write the signed list of withdrawn and blocked voices.", "ledger"
    )
    revocations.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    commands.group("provenance", "Say whether audio is Sayso speech, in which voice, under which consent.")
    check = commands.command(
        "check", cmd_provenance_check, "Check an audio file for the watermark and its record.", "provenance"
    )
    check.add_argument("file", type=Path, help="a WAV, FLAC, OGG or MP3 file")


def cmd_voices(args: argparse.Namespace, settings: Settings) -> int:
    services = VoiceServices.of(settings)
    for voice in all_voices(services.store):
        status, reason = ledger_status(services.ledger, voice)
        if voice.status == "active" and status != "active":  # the table was edited: the ledger decides
            voice = replace(voice, status=status, reason=f"{reason}; its stored status was edited")
        print(_describe(voice, voice.id == settings.voice))
    return 0


def _describe(voice: Voice, chosen: bool) -> str:
    mark = "*" if chosen else " "
    status = voice.status + (f" ({voice.reason})" if voice.reason else "")
    lines = [f"{mark} {voice.id:<12} {status:<7} {voice.name}",
             f"  {'':<12} source:  {voice.provenance.source}",
             f"  {'':<12} licence: {voice.provenance.licence}",
             f"  {'':<12} consent: {voice.consent.summary}"]  # fmt: skip
    if voice.consent.record is not None:
        lines[-1] += f" (ledger entry {voice.consent.record})"
    return "\n".join(lines)


def cmd_lend(args: argparse.Namespace, settings: Settings) -> int:
    models = Models(settings)
    services = models.voice_services
    if args.session is None:
        if not args.name:
            raise InputError("Start lending with --name YOUR NAME (then finish with --session and the recordings).")
        _print_session(services.consents.start_lending(args.name, Scope(args.who, args.purpose, args.until)))
        return 0
    if not args.samples or not args.consent:
        raise InputError("Finish lending with --samples (your voice) and --consent (the statement you read).")
    if not args.tts_url:
        raise InputError("Give --tts-url, the cloning TTS server that will speak in the lent voice.")
    limit = settings.max_input_seconds
    voice = services.consents.finish_lending(
        args.session,
        [read_audio(path, limit) for path in args.samples],
        read_audio(args.consent, limit),
        _checks(models),
        "http",
        {"url": args.tts_url, "model": args.tts_model, "reference_field": args.reference_field},
    )
    print(f"Accepted: the voice {voice.id!r} is lent (ledger entry {voice.consent.record}).")
    print(f"Use it with --voice {voice.id}; withdraw it any time with `sayso voices revoke {voice.id}`.")
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    # checked before anything opens the ledger, which would create a key
    if args.admin and not key_path(settings.trust_path).exists():
        raise InputError("Only the holder of this installation's key may revoke as admin; none was found.")
    models = Models(settings)
    consents = models.voice_services.consents
    if args.admin:
        if not args.yes and not _confirmed(f"Revoke the voice {args.voice_id!r} for everyone? [y/N] "):
            print("Nothing was revoked.")
            return 0
        seq = consents.revoke_as_admin(args.voice_id, args.reason)
    elif args.session is None:
        _print_session(consents.start_revocation(args.voice_id))
        return 0
    else:
        if args.recording is None:
            raise InputError("Finish revoking with --recording (you reading the printed statement).")
        seq = consents.finish_revocation(
            args.session, read_audio(args.recording, settings.max_input_seconds), _checks(models)
        )
    print(f"Revoked: the voice {args.voice_id!r} will not speak again (ledger entry {seq}).")
    return 0


def cmd_ledger_verify(args: argparse.Namespace, settings: Settings) -> int:
    services = VoiceServices.of(settings)
    against = checkpoints.read(args.checkpoint) if args.checkpoint else None
    if args.checkpoint and against is None:
        raise InputError(f"There is no file at {args.checkpoint}; give a checkpoint or a ledger export you kept.")
    count = services.verify(against)
    ledger = services.ledger
    held = ledger.checkpoint()
    print(f"The ledger is intact: {count} entries, chained and signed by key {ledger.public_key}.")
    if held is not None:
        print(f"It extends its checkpoint in {ledger.checkpoint_path} ({held.seq} entries at {held.at}).")
    if against is not None:
        print(f"It extends the checkpoint you gave ({against.seq} entries at {against.at}).")
    print("Every voice's stored status agrees with the ledger.")
    return 0


def cmd_ledger_export(args: argparse.Namespace, settings: Settings) -> int:
    return _write_json(VoiceServices.of(settings).ledger.export(), args.output)


def cmd_ledger_revocations(args: argparse.Namespace, settings: Settings) -> int:
    return _write_json(revocation_list(VoiceServices.of(settings).ledger), args.output)


def _write_json(data: dict[str, Any], output: Path | None) -> int:
    """``data`` as indented JSON to ``output`` (its path is printed) or to standard output."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output is None:
        print(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        print(output)
    return 0


def cmd_provenance_check(args: argparse.Namespace, settings: Settings) -> int:
    services = VoiceServices.of(settings)
    print(check_file(args.file, services.ledger, services.watermarker, services.credentials.root_pem).message)
    return 0


def _checks(models: Models) -> Checks:
    return models.voice_services.checks(lambda audio: models.stt.transcribe(audio).text, models.vad)


def _confirmed(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:  # no one at the keyboard to confirm: do nothing
        return False


def _print_session(session: Session) -> None:
    verb = "lend" if session.purpose == "lend" else f"revoke {session.voice_id}"
    step2 = (
        "--samples YOUR.wav ... --consent STATEMENT.wav --tts-url URL"
        if session.purpose == "lend"
        else "--recording STATEMENT.wav"
    )
    print("Record yourself reading this aloud, in your own voice, within 30 minutes:\n")
    print(f"    {session.statement}\n")
    print(f"Then run: sayso voices {verb} --session {session.id} {step2}")
