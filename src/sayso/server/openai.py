"""OpenAI-compatible endpoints, so existing clients work unchanged (the token is the API key).

- ``POST /v1/audio/transcriptions``: multipart ``file`` -> ``{"text": ...}`` (json, text, verbose_json)
- ``POST /v1/audio/speech``: ``{"input", "voice", "response_format"}`` -> audio; consented voices only
- ``POST /v1/chat/completions``: ``{"messages", "stream", "max_tokens"}`` -> a completion or SSE chunks
- ``GET /v1/models``: the one model, ``sayso``

The ``model`` field is accepted and ignored: the server's own models answer. ``speed`` scales the speaking rate.
Handlers are plain functions: FastAPI runs them in worker threads, off the event loop.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from sayso.audio.vad import speech_in
from sayso.errors import BadRequest, SaysoError
from sayso.mind.llm.base import Message
from sayso.server.api import Space, User
from sayso.server.backends import MEDIA_TYPES, SPEECH_FORMATS, decode_upload, encode_audio
from sayso.server.responses import error_body, status_of

router = APIRouter(prefix="/v1")

MODEL_ID = "sayso"
MAX_SPEECH_CHARS = 4096
MAX_CHAT_CHARS = 32_000
TRANSCRIPTION_FORMATS = ("json", "text", "verbose_json")


class SpeechRequest(BaseModel):
    model: str = "tts-1"
    input: str = Field(min_length=1, max_length=MAX_SPEECH_CHARS)
    voice: str
    response_format: str = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    instructions: str | None = None


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    def message(self) -> Message:
        text = self.content if isinstance(self.content, str) else "".join(part.text for part in self.content)
        return Message("system" if self.role == "developer" else self.role, text)


class ChatRequest(BaseModel):
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=4096)
    temperature: float | None = None


@router.get("/models")
def models(user: User) -> dict[str, Any]:
    """The models this server answers with (one)."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "sayso"}]}


@router.post("/audio/transcriptions", response_model=None)
def transcriptions(
    user: User,
    workspace: Space,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form()] = "whisper-1",
    response_format: Annotated[str, Form()] = "json",
    language: Annotated[str | None, Form()] = None,
) -> dict[str, Any] | PlainTextResponse:
    """What is said in an uploaded audio file (silence gives empty text)."""
    if response_format not in TRANSCRIPTION_FORMATS:
        raise BadRequest(f"response_format must be one of {', '.join(TRANSCRIPTION_FORMATS)}.")
    if language not in (None, "", "en"):
        raise BadRequest(f"Sayso's speech recognition is English only; send language 'en', not {language!r}.")
    audio = decode_upload(file.file.read(), workspace.settings.max_input_seconds)
    models_ = workspace.models
    text = models_.stt.transcribe(audio).text if speech_in(workspace.new_vad(), audio) else ""
    if response_format == "text":
        return PlainTextResponse(text)
    if response_format == "verbose_json":
        return {"text": text, "language": "english", "duration": round(audio.duration, 3), "task": "transcribe"}
    return {"text": text}


@router.post("/audio/speech")
def speech(request: SpeechRequest, user: User, workspace: Space) -> Response:
    """The input spoken in a consented voice (UnknownVoice, 404, for any other)."""
    if request.response_format not in SPEECH_FORMATS:
        raise BadRequest(f"response_format must be one of {', '.join(SPEECH_FORMATS)}; aac is not offered.")
    text = " ".join(request.input.split())
    if not text:
        raise BadRequest("The input holds no words; send some text to speak.")
    voice = workspace.voice(user, request.voice)
    audio = workspace.models.tts(voice).synthesize(text, request.speed)
    return Response(encode_audio(audio, request.response_format), media_type=MEDIA_TYPES[request.response_format])


@router.post("/chat/completions", response_model=None)
def chat_completions(request: ChatRequest, user: User, workspace: Space) -> dict[str, Any] | StreamingResponse:
    """A chat completion from the server's LLM, whole or streamed as server-sent events."""
    messages = [m.message() for m in request.messages]
    if sum(len(m.content) for m in messages) > MAX_CHAT_CHARS:
        raise BadRequest(f"The messages hold more than {MAX_CHAT_CHARS} characters; send a shorter conversation.")
    limit = request.max_completion_tokens or request.max_tokens or workspace.settings.max_reply_tokens
    llm = workspace.models.llm
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if request.stream:
        return StreamingResponse(_chunks(llm.stream(messages, limit), ident, created), media_type="text/event-stream")
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": llm.complete(messages, limit)},
             "finish_reason": "stop"}
        ],
    }  # fmt: skip


def _chunks(pieces: Iterator[str], ident: str, created: int) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format, ending with ``[DONE]``."""

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        return f"data: {json.dumps(body)}\n\n"

    yield chunk({"role": "assistant"})
    try:
        for piece in pieces:
            yield chunk({"content": piece})
    except SaysoError as error:
        # The status line is already sent: the error travels as an event, as OpenAI's does.
        status, code = status_of(error)
        yield f"data: {json.dumps(error_body(str(error), code, status))}\n\n"
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # frees the LLM at once if the client went away
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"
