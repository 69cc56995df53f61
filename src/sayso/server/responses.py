"""Errors as HTTP answers: one table from error class to status, one body shape (OpenAI's).

Only here (and in the CLI) does an error become a message for people; its sentence is the
error's own text, never a traceback.
"""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from sayso import errors

log = logging.getLogger("sayso.server")

# The first matching class wins, so subclasses come before their bases.
STATUS: tuple[tuple[type[errors.SaysoError], int, str], ...] = (
    (errors.AdminOnly, 403, "admin_only"),
    (errors.AccessDenied, 401, "unauthorized"),
    (errors.TooFast, 429, "too_many_requests"),
    (errors.TooLarge, 413, "too_large"),
    (errors.WrongContentType, 415, "unsupported_media_type"),
    (errors.AudioTooLong, 413, "audio_too_long"),
    (errors.NotAudio, 415, "not_audio"),
    (errors.EmptyAudio, 400, "empty_audio"),
    (errors.UnknownVoice, 404, "unknown_voice"),
    (errors.UnknownModel, 404, "model_not_found"),
    (errors.MemoryNotFound, 404, "memory_not_found"),
    (errors.UnknownSession, 404, "unknown_session"),
    (errors.UnknownProtectedPerson, 404, "unknown_person"),
    (errors.AlreadyProtected, 409, "already_protected"),
    (errors.ConsentRefused, 409, "consent_refused"),
    (errors.InputError, 400, "invalid_request"),
    (errors.ConfigError, 400, "invalid_setting"),
    (errors.ModelMissing, 503, "model_missing"),
    (errors.ServiceUnavailable, 502, "service_unavailable"),
    (errors.BackendError, 500, "backend_error"),
    (errors.SaysoError, 500, "server_error"),
)


def status_of(error: errors.SaysoError) -> tuple[int, str]:
    """The HTTP status and short error code for ``error``."""
    for kind, status, code in STATUS:
        if isinstance(error, kind):
            return status, code
    return 500, "server_error"  # pragma: no cover - SaysoError is the last row


def error_body(message: str, code: str, status: int) -> dict[str, dict[str, str | None]]:
    """The JSON body of an error, shaped as OpenAI clients expect."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


def error_response(error: errors.SaysoError) -> JSONResponse:
    """The HTTP answer for a Sayso error."""
    status, code = status_of(error)
    if status >= 500:
        log.warning("request failed: %s", error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(str(error), code, status), status_code=status, headers=headers)
