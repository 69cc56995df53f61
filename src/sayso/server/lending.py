"""Lending a voice and revoking it over HTTP: `sayso voices lend` and `sayso voices revoke` as an API.

- ``POST /api/voices/lend``: start lending -> the statement to read aloud, with its fresh challenge
- ``POST /api/voices/lend/{session}``: finish it with the samples and the consent recording (multipart)
- ``POST /api/voices/{id}/revoke``: the owner starts revoking their voice -> the statement to read
- ``POST /api/voices/revoke/{session}``: the owner finishes with the recording (multipart)
- ``GET /api/admin/voices``: every lent voice, with its lender (admins)
- ``POST /api/admin/voices/{id}/revoke``: an admin revokes any lent voice

The checks are the CLI's (``sayso.voices.consent``); a finished session answers 200 with
``accepted`` true or false, its reasons and scores, as recorded in the ledger either way. A
session belongs to the user who started it, and a lent voice to the user who lent it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field

from sayso.errors import ConsentRefused, UnknownVoice
from sayso.server.api import Admin, Space, User, consent_card
from sayso.server.backends import decode_uploads, multipart_only
from sayso.server.fields import Text
from sayso.server.workspace import Workspace
from sayso.voices.catalog import all_voices
from sayso.voices.consent import SESSION_MINUTES, Checks, Scope, Session
from sayso.voices.ledger import Entry

router = APIRouter(prefix="/api")
Multipart = Depends(multipart_only)


class LendRequest(BaseModel):
    name: Text = Field(min_length=1, max_length=200)
    who: Text = Field(default=Scope.who, min_length=1, max_length=500)
    purpose: Text = Field(default=Scope.purpose, min_length=1, max_length=500)
    until: Text = Field(default="", max_length=40)


class AdminRevokeRequest(BaseModel):
    reason: Text = Field(default="", max_length=1000)


@router.post("/voices/lend")
def start_lending(request: LendRequest, user: User, workspace: Space) -> dict[str, Any]:
    """A lending session: the statement (name, scope, fresh challenge) to record within the session's time."""
    scope = Scope(request.who, request.purpose, request.until)
    workspace.lenders.check_quota(user)
    session = workspace.trust.consents.start_lending(request.name, scope)
    workspace.lenders.started(session.id, "lend", user)
    return _session(session, "samples (one or more files), consent (you reading the statement), tts_url")


@router.post("/voices/lend/{session_id}", dependencies=[Multipart])
def finish_lending(
    session_id: str,
    user: User,
    workspace: Space,
    samples: Annotated[list[UploadFile], File(description="recordings of your voice, 8 s of speech or more")],
    consent: Annotated[UploadFile, File(description="you reading the session's statement")],
    tts_url: Annotated[str, Form(min_length=1, description="base URL of a cloning TTS server the admin allows")],
    tts_model: Annotated[str, Form()] = "tts-1",
    reference_field: Annotated[str, Form()] = "reference_audio",
) -> dict[str, Any]:
    """Accept or refuse the lending; either way the outcome, its reasons and scores are in the ledger."""
    workspace.lenders.check_session(session_id, "lend", user)
    tts_url = workspace.options.clone_backend(tts_url)  # never a URL of the user's choosing
    # every upload is read and checked before the attempt, which uses the session up
    limit = workspace.settings.max_input_seconds
    voices, statement = decode_uploads(samples, limit, "samples"), decode_uploads([consent], limit, "consent")[0]
    params = {"url": tts_url, "model": tts_model, "reference_field": reference_field}
    consents = workspace.trust.consents

    def attempt() -> dict[str, Any]:
        voice = consents.finish_lending(session_id, voices, statement, _checks(workspace), "http", params)
        workspace.lenders.lent(voice.id, user)
        message = f"Accepted: the voice {voice.id!r} is lent (ledger entry {voice.consent.record})."
        return {"message": message, "voice": consent_card(voice)}

    return _decided(workspace, "lend", session_id, attempt)


@router.post("/voices/{voice_id}/revoke")
def start_revocation(voice_id: str, user: User, workspace: Space) -> dict[str, Any]:
    """An owner's revocation session: the statement to record, proving it is them."""
    if voice_id not in {voice.id for voice in workspace.voices(user)}:
        raise UnknownVoice(f"You have no lent voice called {voice_id!r}; see GET /api/voices.")
    workspace.lenders.check_quota(user)
    session = workspace.trust.consents.start_revocation(voice_id)
    workspace.lenders.started(session.id, "revoke", user)
    return _session(session, "recording (you reading the statement)")


@router.post("/voices/revoke/{session_id}", dependencies=[Multipart])
def finish_revocation(
    session_id: str,
    user: User,
    workspace: Space,
    recording: Annotated[UploadFile, File(description="you reading the session's statement")],
) -> dict[str, Any]:
    """Revoke the session's voice if the recording is its owner saying the statement."""
    workspace.lenders.check_session(session_id, "revoke", user)
    audio = decode_uploads([recording], workspace.settings.max_input_seconds, "recording")[0]
    consents = workspace.trust.consents

    def attempt() -> dict[str, Any]:
        seq = consents.finish_revocation(session_id, audio, _checks(workspace))
        return {"message": f"Revoked: the voice will not speak again (ledger entry {seq})."}

    return _decided(workspace, "revoke", session_id, attempt)


@router.get("/admin/voices")
def lent_voices(user: Admin, workspace: Space) -> dict[str, Any]:
    """Every lent voice, whoever lent it (any status), with the server user who lent it through the API."""
    lenders = workspace.lenders.all()
    lent = [voice for voice in all_voices(workspace.voice_store) if voice.lent]
    return {"voices": [{**consent_card(voice), "lender": lenders.get(voice.id)} for voice in lent]}


@router.post("/admin/voices/{voice_id}/revoke")
def revoke_as_admin(
    voice_id: str, user: Admin, workspace: Space, request: AdminRevokeRequest | None = None
) -> dict[str, Any]:
    """Revoke any lent voice, as one of the server's admins; the reason goes to the ledger."""
    seq = workspace.trust.consents.revoke_as_admin(voice_id, request.reason if request else "")
    return {
        "revoked": voice_id,
        "ledger_entry": seq,
        "message": f"Revoked: the voice {voice_id!r} will not speak again (ledger entry {seq}).",
    }


def _checks(workspace: Workspace) -> Checks:
    """The CLI's checks on the server's models, with a VAD of the request's own."""
    stt = workspace.models.stt
    return workspace.trust.checks(lambda audio: stt.transcribe(audio).text, workspace.new_vad())


def _decided(workspace: Workspace, kind: str, session_id: str, attempt: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``attempt``'s answer with the ledger's outcome; a refusal is an answer too, not an error.

    A ConsentRefused that wrote no new ledger entry (a session already used or too old) stays an error.
    """
    earlier = _entry(workspace, kind, session_id)
    try:
        answer = attempt()
    except ConsentRefused as refused:
        entry = _entry(workspace, kind, session_id)
        if entry is None or entry == earlier:
            raise
        answer = {"message": str(refused)}
    else:
        entry = _entry(workspace, kind, session_id)
    assert entry is not None  # an accepted attempt always writes its entry
    body = entry.body
    return {"accepted": body["accepted"], "reasons": body["reasons"], "scores": body.get("scores", {}),
            "ledger_entry": entry.seq, **answer}  # fmt: skip


def _entry(workspace: Workspace, kind: str, session_id: str) -> Entry | None:
    """The ledger entry recording the outcome of a session, if it has one."""
    found = [e for e in workspace.trust.ledger.entries(kind) if e.body.get("session") == session_id]
    return found[-1] if found else None


def _session(session: Session, then: str) -> dict[str, Any]:
    verb = "lend" if session.purpose == "lend" else "revoke"
    return {
        "session": session.id,
        "purpose": session.purpose,
        "voice_id": session.voice_id,
        "statement": session.statement,
        "challenge": session.challenge,
        "expires_in_minutes": SESSION_MINUTES,
        "next": f"Record yourself reading the statement aloud, in your own voice, then POST "
        f"/api/voices/{verb}/{session.id} as multipart/form-data with: {then}.",
    }
