"""The FastAPI application: page, page API, trust API, OpenAI-compatible API and the realtime WebSocket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sayso.errors import AccessDenied, SaysoError
from sayso.server import api, lending, likeness, openai, realtime, revocations
from sayso.server.responses import error_body, error_response
from sayso.server.workspace import Workspace

STATIC = Path(__file__).parent / "static"


def create_app(workspace: Workspace) -> FastAPI:
    """The server's application, acting on ``workspace``."""
    app = FastAPI(title="Sayso", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.workspace = workspace
    for router in (api.router, lending.router, likeness.router, openai.router, realtime.router, revocations.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # async: answered on the event loop, never queued behind blocking work in a thread pool
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def health() -> dict[str, bool]:
        return {"ok": True, "ready": workspace.ready}

    app.add_api_route("/", page, include_in_schema=False)
    app.add_api_route("/healthz", health, include_in_schema=False)
    app.add_exception_handler(SaysoError, _sayso_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # The page is served from this origin; only it (and any --allow-origin) may read answers.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(workspace.options.origins),
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    app.add_middleware(Guard, workspace=workspace)
    return app


class Guard:
    """Outermost checks on every HTTP request: host (DNS rebinding), origin, and body size."""

    def __init__(self, app: ASGIApp, workspace: Workspace) -> None:
        self.app = app
        self.options = workspace.options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # the WebSocket checks its caller itself
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            self.options.check_host(headers.get("host"))
            self.options.check_origin(headers.get("origin"), headers.get("host"))
            declared = int(headers.get("content-length", "0") or 0)
        except AccessDenied as error:
            await _answer(scope, receive, send, 403, error_body(str(error), "forbidden", 403))
            return
        except ValueError:
            await _answer(
                scope, receive, send, 400, error_body("The Content-Length header is not a number.", "bad", 400)
            )
            return
        limit = self.options.max_upload_bytes
        if declared > limit:
            await _answer(scope, receive, send, 413, _too_large(limit))
            return
        if "content-length" not in headers and scope["method"] in ("POST", "PUT", "PATCH"):
            # A body of undeclared length (chunked) is read here, up to the limit, then replayed.
            body = await _read_body(receive, limit)
            if body is None:
                await _answer(scope, receive, send, 413, _too_large(limit))
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes ``limit`` bytes."""
    parts: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if size > limit:
            return None
        more = message.get("more_body", False)
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` giving ``body`` once, then the client's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _too_large(limit: int) -> dict[str, Any]:
    message = f"The request body is over the {limit / (1024 * 1024):.3g} MB limit; send a smaller file."
    return error_body(message, "too_large", 413)


async def _answer(scope: Scope, receive: Receive, send: Send, status: int, body: dict[str, Any]) -> None:
    await JSONResponse(body, status_code=status)(scope, receive, send)


async def _sayso_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SaysoError)
    return error_response(error)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    # pydantic names validators in the location ("function-after[...]"): only field names help a person.
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body" and "[" not in str(p))
    why = str(first.get("msg", "malformed")).removeprefix("Value error, ")
    message = f"The request's {where or 'body'} is not valid: {why}. Check the API docs."
    return JSONResponse(error_body(message, "invalid_request", 400), status_code=400)
