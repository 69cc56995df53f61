"""The signed revocation list, from `sayso ledger revocations` and from GET /api/revocations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sayso.errors import LedgerTampered
from sayso.server.security import ServerOptions
from sayso.server.workspace import Workspace
from sayso.voices.revocations import verify_revocations
from sayso.voices.speaker import VoiceServices
from tests.server.conftest import FakeEmbedder, client, fakes
from tests.test_cli import run
from tests.voices.test_catalog import lent_voice


def test_the_cli_list_names_a_withdrawn_voice_and_is_signed(
    capsys: pytest.CaptureFixture[str], services: VoiceServices, tmp_path: Path
) -> None:
    kept = lent_voice(services, "kept-0001")
    withdrawn = lent_voice(services)
    seq = services.consents.revoke_as_admin(withdrawn.id, "asked to")
    listed = tmp_path / "revocations.json"
    assert run(capsys, "ledger", "revocations", "-o", str(listed))[0] == 0
    data = json.loads(listed.read_text())
    items = verify_revocations(data, services.ledger.public_key)
    assert [(i["voice_id"], i["status"], i["ledger_entry"]) for i in items] == [(withdrawn.id, "revoked", seq)]
    assert kept.id not in json.dumps(items) and data["ledger_head"]["seq"] == seq
    data["revocations"] = []  # someone hides the withdrawal
    with pytest.raises(LedgerTampered, match="not signed"):
        verify_revocations(data, services.ledger.public_key)


def test_the_http_route_serves_the_same_signed_list(services: VoiceServices) -> None:
    models = fakes()
    models.__dict__["voice_services"] = services
    voice = lent_voice(services)
    services.consents.block(voice.id, "sounds like a protected person")
    response = client(Workspace(models, ServerOptions(port=8765), embedder=FakeEmbedder)).get("/api/revocations")
    assert response.status_code == 200
    items = verify_revocations(response.json(), services.ledger.public_key)
    assert [(i["voice_id"], i["status"]) for i in items] == [(voice.id, "blocked")]
