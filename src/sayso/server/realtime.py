"""The realtime WebSocket, ``/v1/realtime``: a spoken conversation with the page (or any client).

It runs the streaming engine (``engine_session``), as ``sayso talk`` does, unless the server was
started with ``--engine simple`` (``session``: whole-utterance turns, typed text too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from sayso.audio.frames import SAMPLE_RATE
from sayso.errors import AccessDenied, InputError, SaysoError, TooFast
from sayso.server.engine_session import EngineSession
from sayso.server.protocol import Pace, decode_audio, parse_event
from sayso.server.responses import status_of
from sayso.server.security import bearer
from sayso.server.session import AssistantSession
from sayso.server.workspace import Workspace

log = logging.getLogger("sayso.server")
router = APIRouter()

POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011


class WebSocketOutbox:
    """Sends a session's events and audio; once the client is gone, output is dropped quietly."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._lock = asyncio.Lock()  # the turn task and the receive loop both send
        self.closed = False

    async def event(self, data: dict[str, Any]) -> None:
        await self._send(json.dumps(data))

    async def audio(self, pcm: bytes) -> None:
        await self._send(pcm)

    async def _send(self, payload: str | bytes) -> None:
        if self.closed:
            return
        async with self._lock:
            try:
                if isinstance(payload, bytes):
                    await self._websocket.send_bytes(payload)
                else:
                    await self._websocket.send_text(payload)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.closed = True


@router.websocket("/v1/realtime")
async def realtime(websocket: WebSocket) -> None:
    """Accept, check the caller, then run one conversation until the client leaves."""
    workspace: Workspace = websocket.app.state.workspace
    await websocket.accept()
    outbox = WebSocketOutbox(websocket)
    slot = contextlib.ExitStack()  # one of the user's session slots, held until the session ends
    try:
        user = _caller(workspace, websocket)
        slot.enter_context(workspace.session_slot(user))
        kind = EngineSession if workspace.engine == "engine" else AssistantSession
        session: EngineSession | AssistantSession = kind(workspace, user, outbox)
    except SaysoError as error:
        slot.close()
        # Refused after accepting, so that browsers (which hide handshake failures) see why.
        await outbox.event(_error_event(error))
        refused = isinstance(error, AccessDenied | TooFast)
        await websocket.close(POLICY_VIOLATION if refused else INTERNAL_ERROR, str(error)[:120])
        return
    with slot:
        await session.start()
        try:
            await _serve(websocket, session, outbox)
        finally:
            await session.close()
            if websocket.client_state == WebSocketState.CONNECTED and not outbox.closed:
                with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client may leave meanwhile
                    await websocket.close()


async def _serve(websocket: WebSocket, session: EngineSession | AssistantSession, outbox: WebSocketOutbox) -> None:
    pace = Pace()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            if message.get("bytes") is not None:
                samples = decode_audio(message["bytes"])
                if pace.admit(len(samples) / SAMPLE_RATE):
                    await session.audio(samples)
            else:
                await session.control(parse_event(message.get("text") or ""))
        except (InputError, TooFast) as error:
            await outbox.event(_error_event(error))


def _caller(workspace: Workspace, websocket: WebSocket) -> str:
    options = workspace.options
    host = websocket.headers.get("host")
    options.check_host(host)
    options.check_origin(websocket.headers.get("origin"), host)
    token = websocket.query_params.get("token") or bearer(websocket.headers.get("authorization"))
    client = websocket.client.host if websocket.client else "unknown"
    return workspace.failed_auth.user(options, client, token)


def _error_event(error: SaysoError) -> dict[str, Any]:
    status, code = status_of(error)
    return {"type": "error", "code": code, "status": status, "message": str(error)}
