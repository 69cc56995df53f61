"""OpenAI-compatible endpoints, so existing clients work unchanged (the token is the API key).

- ``POST /v1/audio/transcriptions``: multipart ``file`` -> ``{"text": ...}`` (json, text, verbose_json)
- ``POST /v1/audio/speech``: ``{"input", "voice", "response_format"}`` -> audio; consented voices only
- ``POST /v1/chat/completions``: ``{"messages", "stream", "max_tokens"}`` -> a completion or SSE chunks,
  answered by the caller's Mind as every other door is (``sayso.server.chat``: what is refused, and why)
- ``GET /v1/models``: the one model, ``sayso``

The ``model`` field is accepted and ignored: the server's own models answer. ``speed`` scales the speaking rate.
Model work runs on the bounded model pool (``sayso.server.pools``), off the event loop and out
of the thread pool that the page and the health check need.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sayso.audio.vad import speech_in
from sayso.errors import BadRequest, UnknownModel
from sayso.mind.mind import Reply
from sayso.server.api import Space, User
from sayso.server.backends import MEDIA_TYPES, OUTPUT_RATE, SPEECH_FORMATS, decode_upload
from sayso.server.chat import MODEL_ID, ChatRequest, Usage, chunks, completion, usage_counter
from sayso.server.fields import Text
from sayso.server.pools import model_stream, model_work
from sayso.speech import subtitles
from sayso.voices.delivery import deliver

router = APIRouter(prefix="/v1")

MAX_SPEECH_CHARS = 4096
TRANSCRIPTION_FORMATS = ("json", "text", "verbose_json", "srt", "vtt")


class SpeechRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    model: str = "tts-1"
    input: Text = Field(min_length=1, max_length=MAX_SPEECH_CHARS)
    voice: Text = Field(max_length=200)
    response_format: str = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    instructions: Text | None = None


@router.get("/models")
def models(user: User) -> dict[str, Any]:
    """The models this server answers with (one)."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "sayso"}]}


@router.get("/models/{model}")
def model(model: str, user: User) -> dict[str, Any]:
    """One model by name (``sayso``); UnknownModel (404), in OpenAI's error shape, for any other."""
    if model != MODEL_ID:
        raise UnknownModel(f"There is no model called {model!r}; this server answers as {MODEL_ID!r}.")
    return models(user)["data"][0]


# What the schema says each answer may be, beyond JSON (so clients and schema checkers know).
_TEXT = {media: {"schema": {"type": "string"}} for media in ("text/plain", "text/vtt")}
_SPEECH = {media: {"schema": {"type": "string", "format": "binary"}} for media in sorted(set(MEDIA_TYPES.values()))}
_EVENTS: dict[str, Any] = {"text/event-stream": {}}  # chunks of JSON, then "[DONE]"


def _answers(content: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "the answer", "content": {"application/json": {}, **content}}}


@router.post("/audio/transcriptions", response_model=None, responses=_answers(_TEXT))
async def transcriptions(
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
    data = await file.read()

    def transcribe() -> tuple[str, float]:
        audio = decode_upload(data, workspace.settings.max_input_seconds)
        speech, stt = speech_in(workspace.new_vad(), audio), workspace.models.stt
        if response_format in ("srt", "vtt"):
            found = subtitles.cues(audio, speech, lambda clip: stt.transcribe(clip).text)
            return (subtitles.srt(found) if response_format == "srt" else subtitles.vtt(found)), audio.duration
        return (stt.transcribe(audio).text if speech else ""), audio.duration

    text, duration = await model_work(transcribe)
    if response_format == "vtt":
        return PlainTextResponse(text, media_type="text/vtt")
    if response_format in ("text", "srt"):
        return PlainTextResponse(text)
    if response_format == "verbose_json":
        return {"text": text, "language": "english", "duration": round(duration, 3), "task": "transcribe"}
    return {"text": text}


@router.post("/audio/speech", responses={200: {"description": "the speech", "content": _SPEECH}})
async def speech(request: SpeechRequest, user: User, workspace: Space) -> Response:
    """The input spoken in a consented voice (UnknownVoice, 404, for any other)."""
    if request.response_format not in SPEECH_FORMATS:
        raise BadRequest(f"response_format must be one of {', '.join(SPEECH_FORMATS)}; aac is not offered.")
    text = " ".join(request.input.split())
    if not text:
        raise BadRequest("The input holds no words; send some text to speak.")

    def speak() -> bytes:
        voice = workspace.voice(user, request.voice)
        audio = workspace.models.tts(voice).synthesize(text, request.speed)
        return deliver(workspace.models.voice_services, [audio], request.response_format, "the HTTP API", OUTPUT_RATE)

    return Response(await model_work(speak), media_type=MEDIA_TYPES[request.response_format])


@router.post("/chat/completions", response_model=None, responses=_answers(_EVENTS))
async def chat_completions(request: ChatRequest, user: User, workspace: Space) -> dict[str, Any] | StreamingResponse:
    """The reply of the caller's Mind to the last message, the others being the conversation so
    far (see ``sayso.server.chat``): whole, or streamed as server-sent events."""

    def respond() -> tuple[Reply, Usage]:
        mind = workspace.mind(user)
        user_text, conversation = request.conversation(mind)
        reply = mind.respond(user_text, client=conversation)  # a message too long for the model fails here: a 400
        return reply, usage_counter(workspace.models.llm, request.messages)

    reply, usage = await model_work(respond)
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if request.stream:
        events = chunks(reply.pieces, ident, created, usage if request.include_usage else None)
        return StreamingResponse(model_stream(events), media_type="text/event-stream")
    text = await model_work(lambda: reply.text)
    return completion(text, ident, created, usage)
