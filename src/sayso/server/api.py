"""The page's own API: who am I, voices with their consent cards, memories, settings.

Every route here acts for the caller's user (``current_user``) and shows only that user's things.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from sayso.server.fields import RowId
from sayso.server.security import bearer
from sayso.server.workspace import Workspace
from sayso.voices.catalog import Voice

router = APIRouter(prefix="/api")


def workspace_of(request: Request) -> Workspace:
    """The server's workspace."""
    workspace: Workspace = request.app.state.workspace
    return workspace


def current_user(request: Request) -> str:
    """The user a request acts for; AccessDenied (401) for a missing or wrong token, TooFast (429)
    once the client's address has sent too many of those."""
    workspace = workspace_of(request)
    client = request.client.host if request.client else "unknown"
    return workspace.failed_auth.user(workspace.options, client, bearer(request.headers.get("authorization")))


User = Annotated[str, Depends(current_user)]
Space = Annotated[Workspace, Depends(workspace_of)]


def admin_user(user: User, workspace: Space) -> str:
    """The caller, if they are one of the server's admins; AdminOnly (403) otherwise."""
    workspace.options.check_admin(user)
    return user


Admin = Annotated[str, Depends(admin_user)]


@router.get("/session")
def session_info(user: User, workspace: Space) -> dict[str, Any]:
    """The caller's user id and the server's defaults, for the page to start from."""
    return {
        "user": user,
        "assistant": workspace.settings.assistant_name,
        "voice": workspace.settings.voice,
        "needs_token": bool(workspace.options.tokens),
        "admin": workspace.options.is_admin(user),
        "engine": workspace.engine,
    }


@router.get("/voices")
def voices(user: User, workspace: Space) -> dict[str, Any]:
    """Every voice the caller may see, each with its consent card."""
    return {"voices": [consent_card(voice) for voice in workspace.voices(user)]}


@router.get("/memories")
def memories(user: User, workspace: Space) -> dict[str, Any]:
    """What Sayso remembers of the caller."""
    store = workspace.memories(user)
    return {"enabled": store.enabled, "memories": [dataclasses.asdict(m) for m in store.all()]}


@router.delete("/memories")
def forget_all(user: User, workspace: Space) -> dict[str, int]:
    """Forget everything Sayso remembers of the caller."""
    return {"forgotten": workspace.forget(user)}


@router.delete("/memories/{memory_id}")
def forget_one(memory_id: RowId, user: User, workspace: Space) -> dict[str, int]:
    """Forget one memory of the caller."""
    return {"forgotten": workspace.forget(user, memory_id)}


@router.get("/settings")
def settings(user: User, workspace: Space) -> dict[str, Any]:
    """The server's settings that shape a conversation (read-only here; set them in config.toml)."""
    s = workspace.settings
    return {
        "stt_model": s.stt_model,
        "llm": s.llm_url or f"embedded {s.local_model}",
        "max_reply_tokens": s.max_reply_tokens,
        "voice": s.voice,
        "barge_in": s.barge_in,
        "endpoint_silence": s.endpoint_silence,
        "memory": s.memory,
        "max_upload_bytes": workspace.options.max_upload_bytes,
    }


def consent_card(voice: Voice) -> dict[str, Any]:
    """Whose voice it is, on what terms, until when, and where it came from."""
    consent = voice.consent
    return {
        "id": voice.id,
        "name": voice.name,
        "status": voice.status,
        "reason": voice.reason,
        "lent": voice.lent,
        "owner": consent.owner or None,
        "consent": consent.summary,
        "scope": consent.scope or None,
        "expires_at": consent.expires_at or None,
        "consent_record": consent.record,
        "source": voice.provenance.source,
        "licence": voice.provenance.licence,
    }
