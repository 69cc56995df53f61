"""Lent voices' reference voiceprints follow the guard's encoder: re-embedded from the kept recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sayso.audio.io import read_audio, write_audio
from sayso.store.db import Database
from sayso.voices.catalog import Consent, Provenance, Voice, VoiceStore
from sayso.voices.embedding import FUSED, FusedEmbedder, ResemblyzerEmbedder, encoder_of, enrolment_vector, part
from sayso.voices.likeness.lent import reembed_lent_voices
from tests.speechdata import recordings


def lent(store: VoiceStore, voice_id: str, voiceprint: np.ndarray, reference: Path | None) -> None:
    params = {"reference": str(reference)} if reference else {}
    voice = Voice(
        voice_id,
        voice_id,
        "piper",
        params,
        Provenance("lent", "consent"),
        Consent("lent", record=1),
        voiceprint=voiceprint,
    )
    with store.db.transaction() as conn:
        store.add_in(conn, voice)


def test_lent_voices_with_their_recording_are_re_embedded_and_others_kept(
    tmp_path: Path, embedder: ResemblyzerEmbedder, fused_embedder: FusedEmbedder
) -> None:
    db = Database(tmp_path / "sayso.db")
    store = VoiceStore(db)
    audio = read_audio(next(r.path for r in recordings("vctk") if r.speaker == "vctk-p226"))
    old = enrolment_vector([embedder.voiceprint(audio)])
    lent(store, "kept", old, write_audio(tmp_path / "reference.wav", audio))
    lent(store, "gone", old, tmp_path / "deleted.wav")
    assert reembed_lent_voices(db, fused_embedder) == ["kept"]
    kept, gone = store.get("kept"), store.get("gone")
    assert kept is not None and kept.voiceprint is not None and encoder_of(kept.voiceprint) == FUSED
    assert float(part(kept.voiceprint, FUSED, "resemblyzer") @ old) > 0.95  # the same voice, now fused
    assert gone is not None and gone.voiceprint is not None and np.allclose(gone.voiceprint, old)
    assert reembed_lent_voices(db, fused_embedder) == []  # done once
