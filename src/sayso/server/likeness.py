"""The likeness guard over HTTP: `sayso likeness protect/list/remove/check` as an API.

- ``POST /api/likeness/check``: a recording -> the CLI's JSON verdict (any user)
- ``GET /api/admin/likeness/people``: the protected people (admins)
- ``POST /api/admin/likeness/people``: protect a person from reference recordings (admins)
- ``DELETE /api/admin/likeness/people/{name_or_id}``: take a person off the registry (admins)

The registry is the server's own guard's (``Workspace.guard``), so a person protected here is
guarded at the next utterance of every voice. As with the CLI, only embeddings and a little
metadata are kept, never the audio. Checks by users who are not admins leave out ``nearest``
(the people below the thresholds), which would otherwise let anyone list the registry.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from sayso.server.api import Admin, Space, User
from sayso.server.backends import decode_uploads, multipart_only
from sayso.voices.likeness.registry import ProtectedPerson
from sayso.voices.likeness.report import verdict_json

router = APIRouter(prefix="/api")
Multipart = Depends(multipart_only)


@router.post("/likeness/check", dependencies=[Multipart])
def check(user: User, workspace: Space, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Whether a recording sounds like a protected person, with thresholds and evidence (the CLI's JSON)."""
    audio = decode_uploads([file], workspace.settings.max_input_seconds, "file")[0]
    guard = workspace.guard
    verdict = verdict_json(file.filename or "upload", guard.check(audio), guard.calibration)
    if not workspace.options.is_admin(user):
        del verdict["nearest"]
    return verdict


@router.get("/admin/likeness/people")
def people(user: Admin, workspace: Space) -> dict[str, Any]:
    """Everyone on the protected registry, oldest first."""
    return {"people": [_card(person) for person in workspace.guard.registry.people()]}


@router.post("/admin/likeness/people", status_code=201, dependencies=[Multipart])
def protect(
    user: Admin,
    workspace: Space,
    name: Annotated[str, Form(min_length=1, max_length=200, pattern=r"\S")],
    files: Annotated[list[UploadFile], File(description="recordings of only their voice, 5 s or more in all")],
) -> dict[str, Any]:
    """Put a person on the registry from reference recordings; only voice embeddings are kept."""
    audio = decode_uploads(files, workspace.settings.max_input_seconds, "files")
    person = workspace.guard.protect(name, audio, [file.filename or f"file {i + 1}" for i, file in enumerate(files)])
    return {"person": _card(person), "kept": "voice embeddings (the voice and disguised variants), not the audio"}


@router.delete("/admin/likeness/people/{name_or_id}")
def remove(name_or_id: str, user: Admin, workspace: Space) -> dict[str, Any]:
    """Take a person (by name or id) off the registry."""
    person = workspace.guard.registry.remove(name_or_id)
    return {"removed": _card(person), "message": f"Removed {person.name} (id {person.id}) from the protected registry."}


def _card(person: ProtectedPerson) -> dict[str, Any]:
    card = asdict(person)
    del card["key"]  # the database's row number means nothing outside it
    return card
