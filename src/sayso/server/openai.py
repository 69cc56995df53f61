"""OpenAI-compatible endpoints, so existing clients work unchanged (the token is the API key).

- ``POST /v1/audio/transcriptions``: multipart ``file`` -> ``{"text": ...}`` (json, text, verbose_json)
- ``POST /v1/audio/speech``: ``{"input", "voice", "response_format"}`` -> audio; consented voices only
- ``POST /v1/chat/completions``: ``{"messages", "stream", "max_tokens"}`` -> a completion or SSE chunks,
  answered by the caller's Mind as every other door is (``sayso.server.chat``: what is refused, and why)
- ``GET /v1/models``: the one model, ``sayso``

The ``model`` field is accepted and ignored: the server's own models answer. ``speed`` scales the speaking rate.
Handlers are plain functions: FastAPI runs them in worker threads, off the event loop.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from sayso.audio.vad import speech_in
from sayso.errors import BadRequest
from sayso.server.api import Space, User
from sayso.server.backends import MEDIA_TYPES, OUTPUT_RATE, SPEECH_FORMATS, decode_upload
from sayso.server.chat import MODEL_ID, ChatRequest, chunks, completion
from sayso.voices.delivery import deliver

router = APIRouter(prefix="/v1")

MAX_SPEECH_CHARS = 4096
TRANSCRIPTION_FORMATS = ("json", "text", "verbose_json")


class SpeechRequest(BaseModel):
    model: str = "tts-1"
    input: str = Field(min_length=1, max_length=MAX_SPEECH_CHARS)
    voice: str
    response_format: str = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    instructions: str | None = None


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
    data = deliver(workspace.models.voice_services, [audio], request.response_format, "the HTTP API", OUTPUT_RATE)
    return Response(data, media_type=MEDIA_TYPES[request.response_format])


@router.post("/chat/completions", response_model=None)
def chat_completions(request: ChatRequest, user: User, workspace: Space) -> dict[str, Any] | StreamingResponse:
    """The reply of the caller's Mind to the last message, the others being the conversation so
    far (see ``sayso.server.chat``): whole, or streamed as server-sent events."""
    mind = workspace.mind(user)
    user_text, conversation = request.conversation(mind)
    reply = mind.respond(user_text, client=conversation)  # a message too long for the model fails here: a 400
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if request.stream:
        return StreamingResponse(chunks(reply.pieces, ident, created), media_type="text/event-stream")
    return completion(reply.text, ident, created)
