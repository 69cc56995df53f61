"""Each tampering of the data folder (tampering.ATTACKS, issue 14's list) is caught: `sayso ledger
verify` names it, or the voice it would free refuses to speak."""

from __future__ import annotations

from pathlib import Path

import pytest

from sayso.errors import VoiceRevoked
from sayso.testing import FakeTTS
from sayso.voices.keys import KEY_FILE
from sayso.voices.speaker import ConsentedTTS, VoiceServices
from tests.test_cli import run
from tests.voices.tampering import ANNA, ATTACKS, Attack, outcome, prepare


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_tampering_with_the_data_folder_is_caught(attack: Attack, tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = prepare(home)
    services.verify()  # intact before the attack (LedgerTampered otherwise)
    services.db.close()  # the intruder works on the files alone
    attack.run(home)
    caught, why = outcome(home, attack)
    assert caught, f"{attack.name}: {why}"


def test_an_untouched_installation_passes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = prepare(home)
    assert services.verify() == 7


def test_a_voice_set_back_to_active_in_its_table_never_speaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    prepare(home).db.close()
    next(a for a in ATTACKS if a.name.startswith("UPDATE voices")).run(home)
    services = VoiceServices(home)
    voice = services.store.get(ANNA)
    assert voice is not None and voice.status == "active"  # the table was edited...
    tts = FakeTTS()
    with pytest.raises(VoiceRevoked, match="is revoked on the signed ledger"):
        ConsentedTTS(tts, voice, services).synthesize("Hello.")
    assert tts.spoken == []  # ...and not a word was spoken in it
    monkeypatch.setenv("SAYSO_HOME", str(home))
    listing = run(capsys, "voices")[1]
    assert f"{ANNA} revoked (revoked at ledger entry 6; its stored status was edited)" in " ".join(listing.split())


def test_the_key_and_checkpoint_live_apart_from_the_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home).mkdir()
    legacy = VoiceServices(tmp_path / "old").ledger.public_key  # an older layout: the key in the data folder
    (tmp_path / "old-trust" / KEY_FILE).rename(home / KEY_FILE)
    services = VoiceServices(home)
    assert services.ledger.public_key == legacy and not (home / KEY_FILE).exists()
    assert {p.name for p in (tmp_path / "home-trust").iterdir()} == {KEY_FILE, "checkpoint.json"}
