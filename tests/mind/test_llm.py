"""The embedded LLM, and the OpenAI-compatible backend against a real server on loopback."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sayso.config import Settings
from sayso.errors import ServiceUnavailable
from sayso.mind.llm.base import Message
from sayso.mind.llm.llama import HOLD_TOKENS, LlamaLLM, _whole_sentences_at_the_limit, smollm2_model_path
from sayso.mind.llm.openai import OpenAILLM, chat_url
from sayso.mind.mind import Mind
from sayso.realtime.models import Models

QUESTION = [
    Message("system", "You are a helpful assistant. Answer in one short sentence."),
    Message("user", "What is the capital of France?"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server with the embedded model, on loopback."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_model_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "1024",
        "--model_alias",
        "smollm2",
    ]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("llama_cpp.server did not start within 120 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_embedded_model_streams_a_sensible_answer(models: Models) -> None:
    pieces = list(models.llm.stream(QUESTION, max_tokens=40))
    assert len(pieces) > 1, "the reply should arrive in several pieces"
    assert "paris" in "".join(pieces).lower()


def test_a_stream_abandoned_mid_reply_does_not_garble_the_next_one(models: Models) -> None:
    alone = "".join(models.llm.stream(QUESTION, max_tokens=20))
    first = models.llm.stream([QUESTION[0], Message("user", "Tell me a long story about a fox.")], 200)
    next(first)  # a reply cut off by a barge-in; its stream is dropped while another thread answers
    answers: list[str] = []
    other = threading.Thread(target=lambda: answers.append("".join(models.llm.stream(QUESTION, max_tokens=20))))
    other.start()
    other.join(timeout=0.5)
    assert other.is_alive(), "the second generation must wait for the open stream, not share llama.cpp with it"
    first.close()
    other.join(timeout=60)
    assert answers == [alone]


def test_openai_backend_streams_from_a_real_server(llama_server: str) -> None:
    llm = OpenAILLM(llama_server, "smollm2")
    pieces = list(llm.stream(QUESTION, max_tokens=40))
    assert len(pieces) > 1
    assert "paris" in "".join(pieces).lower()


def test_openai_backend_accepts_a_url_ending_in_v1(llama_server: str) -> None:
    assert OpenAILLM(llama_server + "/v1/", "smollm2").complete(QUESTION, max_tokens=8).strip()


def test_chat_url() -> None:
    assert chat_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"


def test_unreachable_server_is_a_clear_error() -> None:
    llm = OpenAILLM(f"http://127.0.0.1:{free_port()}", "x", timeout=3)
    with pytest.raises(ServiceUnavailable, match="Cannot reach the LLM server .* start it or fix llm_url"):
        llm.complete(QUESTION, max_tokens=8)


def test_server_error_status_is_a_clear_error(llama_server: str) -> None:
    llm = OpenAILLM(llama_server + "/nowhere", "smollm2")
    with pytest.raises(ServiceUnavailable, match="answered 404"):
        llm.complete(QUESTION, max_tokens=8)


def test_dropping_old_turns_keeps_the_rest_of_the_history_in_the_cache(models: Models) -> None:
    """The history moves up in the prompt when old turns are dropped; the cache moves with it."""
    llm = models.llm
    assert isinstance(llm, LlamaLLM)
    persona = Message("system", "You are Sayso, a friendly voice assistant. Answer in one short sentence.")
    turns = [
        ("What is the capital of France?", "Paris is the capital of France, on the river Seine."),
        ("What is the capital of Italy?", "Rome is the capital of Italy, a city of ancient ruins and fountains."),
        ("What is the capital of Spain?", "Madrid is the capital of Spain, right in the middle of the country."),
    ]
    history = [
        Message(role, text) for question, answer in turns for role, text in (("user", question), ("assistant", answer))
    ]
    question = Message("user", "And what is the capital of Germany?")
    "".join(llm.stream([persona, *history, question], max_tokens=12))
    kept = [persona, *history[2:], question]  # the oldest turn dropped
    tokens = llm.prompt_tokens(kept)
    llm._reuse_moved_history(tokens)
    cached = llm._llama.input_ids[: llm._llama.n_tokens].tolist()
    assert cached == tokens[: len(cached)] and len(cached) > len(tokens) - 20  # only the new question is left to read
    moved = "".join(llm.stream(kept, max_tokens=12))
    llm._llama.reset()
    assert moved.split()[:3] == "".join(llm.stream(kept, max_tokens=12)).split()[:3]  # as if read afresh


def test_prefill_reads_the_users_words_so_far_and_the_reply_starts_after_them(models: Models) -> None:
    llm = models.llm
    assert isinstance(llm, LlamaLLM)
    persona = Message("system", "You are Sayso, a friendly voice assistant. Answer in one short sentence.")
    so_far = [persona, Message("user", "What is the capital")]
    final = [persona, Message("user", "What is the capital of France?")]
    llm._llama.reset()
    llm.prefill(so_far, threading.Event())
    cached = llm._llama.input_ids[: llm._llama.n_tokens].tolist()
    tokens = llm.prompt_tokens(final)
    assert cached == tokens[: len(cached)]  # the final prompt's start: nothing of the template's tail
    assert len(tokens) - len(cached) <= 12  # what is left: "of France?" and the assistant's header
    read_ahead = "".join(llm.stream(final, max_tokens=12))
    llm._llama.reset()
    assert read_ahead == "".join(llm.stream(final, max_tokens=12))  # as if read afresh


def test_prefill_gives_way_when_stopped_or_a_reply_waits(models: Models) -> None:
    llm = models.llm
    assert isinstance(llm, LlamaLLM)
    long_turn = [Message("system", "You are Sayso."), Message("user", "Tell me about " + "the sea and " * 20)]
    llm._llama.reset()
    stop = threading.Event()
    stop.set()
    llm.prefill(long_turn, stop)
    assert llm._llama.n_tokens == 0  # stopped before reading anything
    llm._llama.reset()
    llm._wanted.set()  # as a stream waiting for the model does
    try:
        llm.prefill(long_turn, threading.Event())
    finally:
        llm._wanted.clear()
    assert llm._llama.n_tokens == 0


def test_the_default_embedded_model_is_qwen_and_smollm2_is_one_setting_away(models: Models, tmp_path: Path) -> None:
    assert models.llm.name.startswith("qwen2.5-coder-1.5b")
    small = Models(Settings(home=str(tmp_path), local_model="smollm2-135m")).llm
    assert small.name.lower().startswith("smollm2-135m")
    assert "paris" in small.complete(QUESTION, max_tokens=24).lower()


def ask(mind: Mind, text: str) -> tuple[str, str]:
    reply = mind.respond(text)
    said = reply.text
    mind.conversation.record(text, said)
    return reply.route, said


def test_a_stored_allergy_shapes_a_suggestion_without_a_refusal(models: Models, tmp_path: Path) -> None:
    mind = Mind(Settings(home=str(tmp_path)), lambda: models.llm)
    assert ask(mind, "I'm allergic to peanuts.")[0] == "memory:store"
    route, said = ask(mind, "Suggest a snack for me.")
    assert route == "llm"
    lowered = said.lower()
    assert not re.search(r"\b(?:can't|cannot|unable to) (?:help|suggest|recommend)", lowered), said
    assert "peanut butter" not in lowered and not re.search(r"\b(?:try|have|eat) (?:some )?peanuts\b", lowered), said


def test_a_worry_with_a_question_gets_advice(models: Models, tmp_path: Path) -> None:
    mind = Mind(Settings(home=str(tmp_path)), lambda: models.llm)
    route, said = ask(mind, "I have a job interview tomorrow and I'm nervous. Any tips?")
    assert route == "llm"
    assert re.search(r"\b(?:prepar|research|practi[cs]e|breath|sleep|rest|confiden)", said.lower()), said


def _chunks(*texts: str, cut: bool) -> Iterator[dict[str, list[dict[str, str | None]]]]:
    for i, text in enumerate(texts):
        last = i == len(texts) - 1
        yield {"choices": [{"text": text, "finish_reason": ("length" if cut else "stop") if last else None}]}


def test_a_reply_cut_at_the_token_limit_loses_only_its_unfinished_sentence() -> None:
    pieces = ("Boil", " it.", " Then", " cool", " it", " in")
    assert "".join(_whole_sentences_at_the_limit(_chunks(*pieces, cut=True), 4)) == "Boil it."
    assert "".join(_whole_sentences_at_the_limit(_chunks(*pieces, cut=False), 4)) == "".join(pieces)
    early = list(_whole_sentences_at_the_limit(_chunks(*pieces, cut=True), 6 + HOLD_TOKENS))
    assert early[:2] == ["Boil", " it."]  # far from the limit, text is passed on as it comes
    assert next(_whole_sentences_at_the_limit(_chunks("Hello", " there", cut=True), 2)) == "Hello"  # a tiny budget


def test_the_embedded_model_counts_the_tokens_of_its_prompt_and_reply(models: Models, tmp_path: Path) -> None:
    mind = Mind(Settings(home=str(tmp_path)), lambda: models.llm)
    reply = mind.respond("What is the capital of France?")
    said = reply.text.removeprefix(mind.settings.ai_disclosure.format(name=mind.settings.assistant_name)).strip()
    assert reply.route == "llm" and "paris" in said.lower()
    persona = models.llm.count_tokens([Message("system", mind.conversation.system_prompt())])
    assert persona < reply.usage.prompt_tokens < persona + 40  # the persona, the question and the template
    assert abs(reply.usage.completion_tokens - models.llm.count_text(said)) <= 2, (reply.usage, said)
    assert models.llm.count_text(said) >= len(said.split()) > 2  # a real count: a token a word or more
