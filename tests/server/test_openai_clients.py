"""What OpenAI clients meet beyond the basics: model look-up, subtitles, and unknown voices."""

from __future__ import annotations

import io
import re
from types import MappingProxyType

import numpy as np
import pytest
import soundfile as sf

from sayso.audio.frames import Audio
from sayso.server.security import ServerOptions
from sayso.testing import FakeSTT, silence, tone
from sayso.voices.catalog import Consent, Provenance, Voice
from tests.server.conftest import TOKENS, client, fake_workspace

BOB = {"Authorization": "Bearer bob-token-0123456789ab"}


def test_a_client_can_look_up_the_model_by_name() -> None:
    http = client(fake_workspace())
    assert http.get("/v1/models/sayso").json()["id"] == "sayso"
    missing = http.get("/v1/models/gpt-4o")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert "'sayso'" in missing.json()["error"]["message"]


def two_lines() -> bytes:
    """Speech (a tone, to the fake VAD) at 0.5-1.5 s and 3.0-4.0 s."""
    audio = Audio(np.concatenate([s.samples for s in (silence(0.5), tone(1.0), silence(1.5), tone(1.0))]), 16_000)
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.rate, format="WAV")
    return buffer.getvalue()


def test_transcriptions_as_srt_and_vtt_time_each_stretch_of_speech() -> None:
    for fmt, mark, first_line in (("srt", ",", "1"), ("vtt", ".", "WEBVTT")):
        workspace = fake_workspace()
        stt = FakeSTT("Good morning.", "See you later.")
        workspace.models.__dict__["stt"] = stt
        response = client(workspace).post(
            "/v1/audio/transcriptions", files={"file": ("q.wav", two_lines())}, data={"response_format": fmt}
        )
        assert response.status_code == 200, response.text
        text = response.text
        assert text.splitlines()[0] == first_line and "Good morning." in text and "See you later." in text
        times = [int(m) * 60 + float(f"{s}.{ms}") for m, s, ms in re.findall(rf"00:(\d\d):(\d\d){mark}(\d\d\d)", text)]
        # each cue starts and ends where its speech does (to the VAD's 32 ms frame)
        assert times == pytest.approx([0.5, 1.5, 3.0, 4.0], abs=0.04)
        # each cue heard alone, padded by 0.15 s (the second stops at the end of the file)
        assert [a.duration for a in stt.heard] == pytest.approx([1.3, 1.15], abs=0.04)


def test_an_unknown_voice_lists_only_the_voices_the_caller_may_use() -> None:
    workspace = fake_workspace(ServerOptions(port=8765, tokens=TOKENS))
    lent = Voice(
        "alice-own", "Alice's own voice", "espeak", MappingProxyType({"voice": "en-us"}), Provenance("recorded", "own"),
        Consent("Alice agreed: personal assistant", "alice", "personal assistant", "", 1),
    )  # fmt: skip
    store = workspace.voice_store  # its migrations run before the transaction
    with workspace.db.transaction() as conn:
        store.add_in(conn, lent)
    refused = client(workspace).post("/v1/audio/speech", json={"input": "Hi.", "voice": "nova"}, headers=BOB)
    message = refused.json()["error"]["message"]
    assert refused.status_code == 404 and "'nova'" in message and "joe" in message and "alice-own" not in message
