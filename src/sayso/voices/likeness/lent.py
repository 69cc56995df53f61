"""Lent voices' reference voiceprints, kept in step with the guard's encoder.

A lent voice keeps its reference recording, so when the guard's encoder changes its stored
voiceprint is simply made again from that recording: its every utterance is then checked with
the stronger encoder. A voice whose recording is gone keeps its old voiceprint, which the guard
still scores with the encoder that made it.
"""

from __future__ import annotations

from pathlib import Path

from sayso.audio.io import read_audio
from sayso.errors import AudioError
from sayso.store.db import Database
from sayso.voices.catalog import VoiceStore
from sayso.voices.embedding import SpeakerEmbedder, encoder_of, enrolment_vector


def reembed_lent_voices(db: Database, embedder: SpeakerEmbedder) -> list[str]:
    """Re-embed, with ``embedder``, every lent voice whose voiceprint another encoder made and whose
    reference recording is kept; the ids of those re-embedded. Each is stored in its own transaction."""
    store = VoiceStore(db)
    done = []
    for voice in store.lent():
        reference = Path(str(voice.params.get("reference", "")))
        if voice.voiceprint is None or encoder_of(voice.voiceprint) == embedder.encoder or not reference.is_file():
            continue
        try:
            vector = enrolment_vector([embedder.voiceprint(read_audio(reference))])
        except AudioError:
            continue  # unreadable or speechless now: the old voiceprint still guards the voice
        with db.transaction() as conn:
            store.set_voiceprint_in(conn, voice.id, vector)
        done.append(voice.id)
    return done
