"""The spoken turn: wiring with fakes, then once end to end with the real models."""

from __future__ import annotations

import pytest

from sayso.audio.io import read_audio
from sayso.errors import EmptyAudio
from sayso.realtime.models import Models
from sayso.realtime.turn import Assistant
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models, silence, tone
from sayso.voices.catalog import find_voice
from tests.speechdata import recordings


def assistant_with(reply: str = "Paris is the capital. It is lovely in spring.", heard: str = "Capital of France?"):
    llm, tts = FakeLLM(reply), FakeTTS()
    models = fake_models(vad=FakeVAD(), stt=FakeSTT(heard), llm=llm, tts=tts)
    return Assistant(models, find_voice("joe")), llm, tts


def test_a_turn_speaks_each_clause_and_records_history() -> None:
    assistant, llm, tts = assistant_with()
    result = assistant.reply_to(tone(1.0))
    assert result.transcript == "Capital of France?"
    disclosure = "Just so you know, I'm Sayso, an AI assistant, not a person."  # opens every conversation
    assert tts.spoken == [disclosure, "Paris is the capital.", "It is lovely in spring."]
    assert result.reply.text == disclosure + " Paris is the capital. It is lovely in spring."
    assert len(result.reply.audio) == 3
    assert [m.role for m in assistant.conversation.history] == ["user", "assistant"]
    assert assistant.conversation.history[1].content == result.reply.text
    t = result.timings
    assert 0 < t.first_audio <= t.total
    assert t.llm_first_token <= t.llm_total


def test_the_next_turn_sends_the_history_and_the_persona() -> None:
    assistant, llm, _ = assistant_with()
    assistant.reply_to(tone(1.0))
    assistant.reply_to(tone(1.0))
    second = llm.calls[1]
    assert second[0].role == "system" and "Sayso" in second[0].content and "not a human" in second[0].content
    assert [m.role for m in second[1:]] == ["user", "assistant", "user"]


def test_asking_for_slower_speech_slows_the_voice_from_that_reply_on() -> None:
    assistant, _, tts = assistant_with(heard="Could you speak more slowly?")
    assistant.reply_to(tone(1.0))
    slower = tts.speeds[-1]
    assert slower < 1.0 and tts.spoken[-1] == "Okay, I'll speak slower."
    assistant.reply_to(tone(1.0))
    assert tts.speeds[-1] < slower  # asked again: slower still


def test_history_is_bounded_and_cut_back_in_halves_so_its_start_stays_put() -> None:
    assistant, _, _ = assistant_with()
    conversation = assistant.conversation
    lengths, starts = [], []
    for turn in range(13):
        assistant.remember(f"question {turn}", "".join(assistant.think(f"question {turn}")))
        lengths.append(len(conversation.history) // 2)
        starts.append(conversation.history[0].content)
    assert max(lengths) == conversation.max_turns == 6
    assert lengths == [1, 2, 3, 4, 5, 6, 3, 4, 5, 6, 3, 4, 5]
    assert starts[6:10] == ["question 4"] * 4  # the same first message for four turns: the LLM's cache holds


def test_silence_is_refused_before_transcription() -> None:
    assistant, _, _ = assistant_with()
    stt = assistant.models.stt
    with pytest.raises(EmptyAudio, match="No speech was found"):
        assistant.reply_to(silence(2.0))
    assert isinstance(stt, FakeSTT) and stt.heard == []


def test_speech_without_words_is_refused() -> None:
    assistant, _, _ = assistant_with(heard="")
    with pytest.raises(EmptyAudio, match="No words could be made out"):
        assistant.reply_to(tone(1.0))


def test_a_spoken_question_is_answered_end_to_end(models: Models) -> None:
    voice = find_voice("joe")
    question = models.tts(voice).synthesize("What is the capital of France?")
    result = Assistant(models, voice).reply_to(question)
    assert "capital" in result.transcript.lower() and "france" in result.transcript.lower()
    assert "paris" in result.reply.text.lower()
    spoken = sum(a.duration for a in result.reply.audio)
    assert spoken > 0.5
    heard_back = " ".join(models.stt.transcribe(a).text for a in result.reply.audio).lower()
    assert "paris" in heard_back


def test_a_human_recording_gets_an_answer(models: Models) -> None:
    rec = recordings("ljspeech")[1]  # "in being comparatively modern."
    result = Assistant(models, find_voice("joe")).reply_to(read_audio(rec.path))
    assert "modern" in result.transcript.lower()
    assert result.reply.text and result.reply.audio
