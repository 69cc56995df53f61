"""Provenance and the voice commands, end to end through `sayso`: say, check, lend, revoke, ledger."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from sayso.audio.io import read_audio, write_audio
from sayso.speech.tts import make_tts
from sayso.testing import FakeTTS
from sayso.voices.ledger import verify_export
from sayso.voices.speaker import ConsentedTTS, VoiceServices
from tests.speechdata import recordings
from tests.test_cli import assert_clear_error, run
from tests.voices.test_catalog import lent_voice
from tests.voices.test_consent import SAMPLE_TEXTS


def test_said_speech_is_traced_and_other_audio_is_not(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    said = tmp_path / "said.wav"
    assert run(capsys, "say", "The weather is fine today, enjoy your walk.", "-o", str(said))[0] == 0
    code, out, _ = run(capsys, "provenance", "check", str(said))
    assert code == 0 and "is Sayso speech in the voice 'joe'" in out and "signed record intact" in out
    assert "preset" in out
    compressed = write_audio(tmp_path / "said.mp3", read_audio(said).resampled(16_000))
    out = run(capsys, "provenance", "check", str(compressed))[1]
    assert "carries the Sayso watermark" in out and "matches no provenance record" in out
    human = recordings("vctk")[1].path
    assert "No Sayso watermark was found" in run(capsys, "provenance", "check", str(human))[1]


def test_a_lent_voice_record_says_whether_consent_held(
    capsys: pytest.CaptureFixture[str], services: VoiceServices, tmp_path: Path
) -> None:
    voice = lent_voice(services)
    spoken = write_audio(
        tmp_path / "lent.wav", ConsentedTTS(FakeTTS(), voice, services).synthesize("Hello there, friend.")
    )
    services.consents.revoke_as_admin(voice.id, "")
    out = run(capsys, "provenance", "check", str(spoken))[1]
    assert (
        f"in the voice '{voice.id}'" in out and "Consent was valid when it was spoken" in out and "revoked later" in out
    )


def test_the_ledger_commands_verify_export_and_catch_tampering(
    capsys: pytest.CaptureFixture[str], services: VoiceServices, tmp_path: Path
) -> None:
    lent_voice(services)
    services.consents.revoke_as_admin("anna-1a2b", "")
    code, out, _ = run(capsys, "ledger", "verify")
    assert code == 0 and "intact: 2 entries" in out
    exported = tmp_path / "ledger.json"
    assert run(capsys, "ledger", "export", "-o", str(exported))[0] == 0
    data = json.loads(exported.read_text())
    assert verify_export(data, data["public_key"]) == 2
    conn = sqlite3.connect(services.db.path)
    conn.execute("DROP TRIGGER ledger_entries_no_update")
    conn.execute("UPDATE ledger_entries SET body = replace(body, 'anna-1a2b', 'bob-0000') WHERE seq = 1")
    conn.commit()
    conn.close()
    code, _, err = run(capsys, "ledger", "verify")
    assert_clear_error(code, err, "Ledger entry 1 was edited")


def finish_lending(
    capsys: pytest.CaptureFixture[str], session: str, samples: list[str], consent: str
) -> tuple[int, str, str]:
    """`sayso voices lend --session ...`, step 2 of lending."""
    return run(capsys, "voices", "lend", "--session", session, "--samples", *samples, "--consent", consent,
               "--tts-url", "http://x")  # fmt: skip


@pytest.mark.usefixtures("steady_challenge")
def test_lend_through_the_command_line_then_revoke(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "voices", "lend", "--name", "Anna Smith", "--until", "2099-12-31")
    assert code == 0
    statement = re.search(r"^    (I am Anna Smith.*)$", out, re.MULTILINE)
    session = re.search(r"--session (\w+)", out)
    assert statement and session and "until 2099-12-31" in statement[1]
    joe = make_tts("piper", {})
    samples = [str(write_audio(tmp_path / f"s{i}.wav", joe.synthesize(t))) for i, t in enumerate(SAMPLE_TEXTS)]
    consent = str(write_audio(tmp_path / "consent.wav", joe.synthesize(statement[1])))
    code, _, err = run(
        capsys, "voices", "lend", "--session", session[1], "--samples", *samples, "--tts-url", "http://x"
    )
    assert_clear_error(code, err, "--consent")
    code, out, err = finish_lending(capsys, session[1], samples, consent)
    assert code == 0, err
    voice_id = re.search(r"the voice '([\w-]+)' is lent", out)
    assert voice_id and voice_id[1] in run(capsys, "voices")[1]
    assert run(capsys, "voices", "revoke", voice_id[1], "--admin", "--yes", "--reason", "test")[0] == 0
    code, _, err = run(capsys, "say", "Hello.", "-o", str(tmp_path / "x.wav"), "--voice", voice_id[1])
    assert_clear_error(code, err, "is revoked (revoked by an administrator: test)")
    assert "revoked" in run(capsys, "voices")[1]


def test_a_refused_lending_is_one_clear_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    session = re.search(r"--session (\w+)", run(capsys, "voices", "lend", "--name", "Anna")[1])
    assert session
    short = str(write_audio(tmp_path / "short.wav", make_tts("espeak", {"voice": "en-us"}).synthesize("Hi.")))
    code, _, err = finish_lending(capsys, session[1], [short], short)
    assert_clear_error(code, err, "fewer than the 8 s needed")
    code, _, err = run(capsys, "voices", "revoke", "joe", "--admin", "--yes")
    assert_clear_error(code, err, "presets cannot be revoked")


def test_admin_revocation_needs_the_installation_key(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    code, _, err = run(capsys, "voices", "revoke", "anna-1a2b", "--admin", "--yes")
    assert_clear_error(code, err, "installation's key")
    assert not (isolated_home.parent / "home-trust" / "installation_key.pem").exists()  # refusing must not mint one
