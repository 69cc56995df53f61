"""The signed revocation list over HTTP (what `sayso ledger revocations` writes).

- ``GET /api/revocations``: every voice whose consent was withdrawn or that was blocked, with the
  ledger entry and time, signed with the installation key (``sayso.voices.revocations``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sayso.server.api import Space, User
from sayso.voices.revocations import revocation_list

router = APIRouter(prefix="/api")


@router.get("/revocations")
def revocations(user: User, workspace: Space) -> dict[str, Any]:
    """The installation's signed revocation list."""
    return revocation_list(workspace.models.voice_services.ledger)
