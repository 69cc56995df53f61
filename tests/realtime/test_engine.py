"""The streaming engine on a scripted timeline with a virtual clock and fake models."""

from __future__ import annotations

import asyncio

import numpy as np

from sayso.config import Settings
from sayso.realtime import events as ev
from sayso.realtime.engine import Engine
from sayso.realtime.events import State
from sayso.realtime.playback import PacedSink
from sayso.realtime.turn import Assistant
from sayso.testing import FakeLLM, FakeTTS, FakeVAD, Timeline, fake_models
from sayso.voices.catalog import find_voice

REPLY = "Paris is the French capital. It sits on the Seine. It is lovely in spring."


def converse(
    timeline: Timeline, reply: str = REPLY, preview_mark: str = "", **settings: object
) -> tuple[Engine, list[ev.Outbound], FakeLLM]:
    """Run the engine over ``timeline``; returns it, every event it emitted, and the fake LLM."""
    llm = FakeLLM(reply)
    stt = timeline.stt(preview_mark)
    models = fake_models(Settings(**settings), vad=FakeVAD(), stt=stt, llm=llm, tts=FakeTTS())  # type: ignore[arg-type]
    seen: list[ev.Outbound] = []
    engine = Engine(Assistant(models, find_voice("joe")), clock=timeline.clock, listeners=[seen.append])
    sink = PacedSink(timeline.clock)
    asyncio.run(engine.run(timeline.frames(engine), sink))
    return engine, seen, llm


def states(seen: list[ev.Outbound]) -> list[State]:
    return [e.state for e in seen if isinstance(e, ev.StateChanged)]


def spoken(seen: list[ev.Outbound]) -> str:
    """The first reply's text as the engine sent it to TTS (the mind may add to the LLM's words)."""
    first_final = [i for i, e in enumerate(seen) if isinstance(e, ev.FinalTranscript)][:2] + [len(seen)]
    return " ".join(e.text for e in seen[first_final[0] : first_final[1]] if isinstance(e, ev.ReplyClause))


def test_user_says_stop_at_two_seconds_and_history_keeps_what_was_heard() -> None:
    timeline = Timeline([(0.0, 1.2, "what is the capital of France"), (2.0, 2.4, "stop")], length=4.0)
    engine, seen, llm = converse(timeline, reply=REPLY)
    assert states(seen)[:6] == [
        State.LISTENING,
        State.THINKING,
        State.SPEAKING,
        State.PAUSED,
        State.LISTENING,
        State.THINKING,
    ]
    finals = [e.text for e in seen if isinstance(e, ev.FinalTranscript)]
    assert finals[:2] == ["what is the capital of France", "stop"]
    (interrupted,) = [e for e in seen if isinstance(e, ev.Interrupted)]
    paused = next(e for e in seen if isinstance(e, ev.ReplyPaused))
    assert 2.0 < paused.at < 2.2  # playback stopped within the onset rule of "stop"
    history = engine.assistant.conversation.history
    assert history[0].content == "what is the capital of France"
    heard = history[1].content
    assert heard == interrupted.heard
    assert heard and spoken(seen).startswith(heard) and len(heard) < len(spoken(seen))
    # FakeTTS speaks 50 ms per character: the words heard are the share of the first clause
    # played between the start of speaking and the pause, rounded down
    speaking = next(e.at for e in seen if isinstance(e, ev.StateChanged) and e.state == State.SPEAKING)
    clause = next(e.text for e in seen if isinstance(e, ev.ReplyClause))
    share = (paused.at - speaking) / (0.05 * len(clause))
    assert heard == " ".join(clause.split()[: int(len(clause.split()) * share)])
    assert len(history) == 2  # the reply to "stop" is still playing when the timeline ends
    # the model is told its reply was cut off, and what was heard, not shown it as a whole reply
    assert history[1].cut and not history[0].cut
    note = llm.calls[1][-2]
    assert note.role == "system" and "interrupted" in note.content and f'"{heard}"' in note.content


def test_a_reply_plays_to_the_end_and_is_remembered_whole() -> None:
    timeline = Timeline([(0.0, 1.0, "tell me about Paris")], length=8.0)
    engine, seen, _ = converse(timeline, reply="It is in France.")
    assert states(seen) == [State.LISTENING, State.THINKING, State.SPEAKING, State.IDLE]
    assert spoken(seen).endswith("It is in France.")
    assert engine.assistant.conversation.history[1].content == spoken(seen)
    (metrics,) = engine.metrics
    assert metrics.end_of_turn is not None and metrics.voice_to_voice is not None
    # fake models answer at once on the virtual clock: voice-to-voice is the end-of-turn delay
    assert metrics.voice_to_voice == metrics.end_of_turn
    assert 0.3 <= metrics.end_of_turn <= 0.45


def test_partial_transcripts_arrive_while_the_user_speaks() -> None:
    timeline = Timeline([(0.0, 2.4, "I would like to hear about the weather in Lisbon")], length=4.0)
    _, seen, llm = converse(timeline, preview_mark="~")
    partials = [e.text for e in seen if isinstance(e, ev.PartialTranscript)]
    first_final = next(i for i, e in enumerate(seen) if isinstance(e, ev.FinalTranscript))
    early = [e for e in seen[:first_final] if isinstance(e, ev.PartialTranscript)]
    assert len([e for e in early if e.text.startswith("~")]) >= 2  # the quick previews
    assert len(partials[0].split()) < len(partials[-1].split())
    # the turn is ended and answered on the full transcription, never on a preview
    finals = [e.text for e in seen if isinstance(e, ev.FinalTranscript)]
    assert finals == ["I would like to hear about the weather in Lisbon"]
    assert llm.calls[0][-1].content == finals[0]


def test_the_llm_reads_the_users_words_ahead_while_they_speak_and_the_history_after_a_reply() -> None:
    timeline = Timeline([(0.0, 2.4, "I would like to hear about the weather in Lisbon")], length=16.0)
    engine, _, llm = converse(timeline, reply="It is sunny.")  # played to the end, AI disclosure first
    final = llm.calls[0][-1].content
    ahead = [messages[-1].content for messages in llm.prefilled]
    partial = [text for text in ahead if text and text != final]
    assert partial and all(final.startswith(text) for text in partial)  # the words so far, as they came
    # once the reply has been heard, the next prompt's start (the history) is read while idle
    history = engine.assistant.conversation.history
    assert ahead[-1] == "" and llm.prefilled[-1][1:-1] == history


def test_a_trailing_and_waits_for_the_rest_of_the_thought() -> None:
    timeline = Timeline([(0.0, 1.0, "I need eggs and"), (1.8, 2.6, "some milk")], length=5.0)
    _, seen, llm = converse(timeline)
    finals = [e.text for e in seen if isinstance(e, ev.FinalTranscript)]
    assert finals[0] == "I need eggs and some milk"
    assert len(llm.calls) == 1


def test_the_same_pause_after_a_finished_sentence_ends_the_turn() -> None:
    timeline = Timeline([(0.0, 1.0, "I need eggs"), (1.8, 2.6, "some milk")], length=5.0)
    _, seen, _ = converse(timeline, reply="Okay.")
    finals = [e.text for e in seen if isinstance(e, ev.FinalTranscript)]
    assert finals == ["I need eggs", "some milk"]


def test_a_short_noise_pauses_the_reply_which_then_resumes() -> None:
    timeline = Timeline([(0.0, 1.0, "tell me about Paris"), (2.0, 2.15, "")], length=10.0)
    engine, seen, _ = converse(timeline)
    assert states(seen) == [
        State.LISTENING,
        State.THINKING,
        State.SPEAKING,
        State.PAUSED,
        State.SPEAKING,
        State.IDLE,
    ]
    assert not [e for e in seen if isinstance(e, ev.Interrupted)]
    assert spoken(seen).endswith(REPLY)
    assert engine.assistant.conversation.history[1].content == spoken(seen)


def test_a_backchannel_does_not_interrupt() -> None:
    timeline = Timeline([(0.0, 1.0, "tell me about Paris"), (2.0, 2.5, "mm-hm yeah")], length=10.0)
    engine, seen, llm = converse(timeline)
    assert State.PAUSED in states(seen) and states(seen)[-1] == State.IDLE
    assert not [e for e in seen if isinstance(e, ev.Interrupted)]
    assert spoken(seen).endswith(REPLY)
    assert engine.assistant.conversation.history[1].content == spoken(seen)
    assert len(llm.calls) == 1


def test_speech_with_barge_in_off_does_not_stop_the_reply() -> None:
    timeline = Timeline([(0.0, 1.0, "tell me about Paris"), (2.0, 2.6, "stop now")], length=10.0)
    engine, seen, _ = converse(timeline, barge_in="off")
    assert State.PAUSED not in states(seen)
    assert engine.assistant.conversation.history[1].content == spoken(seen)


def test_a_due_timer_is_announced_when_no_one_is_talking_and_not_recorded_as_a_turn() -> None:
    import time

    timeline = Timeline([], length=12.0)
    models = fake_models(Settings(), vad=FakeVAD(), stt=timeline.stt(), llm=FakeLLM(REPLY), tts=FakeTTS())
    assistant = Assistant(models, find_voice("joe"))
    now = time.time()
    assistant.mind.schedule.add("timer", "tea", fire_at=now - 1, now=now - 300)
    seen: list[ev.Outbound] = []
    engine = Engine(assistant, clock=timeline.clock, listeners=[seen.append])
    asyncio.run(engine.run(timeline.frames(engine), PacedSink(timeline.clock)))
    said = [e.text for e in seen if isinstance(e, ev.ReplyClause)]
    assert said and "tea" in " ".join(said).lower()
    assert states(seen)[:3] == [State.THINKING, State.SPEAKING, State.IDLE]
    assert assistant.conversation.history == [] and engine.metrics == []
    assert assistant.mind.due_announcements() == []  # said once


def converse_typing(
    timeline: Timeline, typed: dict[float, str], reply: str = REPLY
) -> tuple[Engine, list[ev.Outbound], FakeLLM]:
    """As ``converse``, and the user types ``typed[t]`` at virtual time ``t``."""
    llm = FakeLLM(reply)
    models = fake_models(Settings(), vad=FakeVAD(), stt=timeline.stt(), llm=llm, tts=FakeTTS())
    seen: list[ev.Outbound] = []
    engine = Engine(Assistant(models, find_voice("joe")), clock=timeline.clock, listeners=[seen.append])
    due = {round(t / 0.032): text for t, text in typed.items()}

    def mix(index: int, frame: np.ndarray) -> np.ndarray:
        if index in due:
            engine.type_text(due[index])
        return frame

    asyncio.run(engine.run(timeline.frames(engine, mix), PacedSink(timeline.clock)))
    return engine, seen, llm


def test_a_typed_turn_is_answered_and_spoken_like_a_spoken_one() -> None:
    engine, seen, llm = converse_typing(Timeline([], length=8.0), {1.0: "  what is the capital   of France "})
    assert [e.text for e in seen if isinstance(e, ev.FinalTranscript)] == ["what is the capital of France"]
    assert states(seen) == [State.THINKING, State.SPEAKING, State.IDLE]
    history = engine.assistant.conversation.history
    assert history[0].content == "what is the capital of France" and history[1].content == spoken(seen)
    assert llm.calls[0][-1].content == "what is the capital of France"


def test_typing_during_a_spoken_reply_cuts_it_off_in_the_same_conversation() -> None:
    timeline = Timeline([(0.0, 1.0, "tell me about Paris")], length=9.0)
    engine, seen, llm = converse_typing(timeline, {2.5: "actually, what about Rome?", 3.0: " "})
    finals = [e.text for e in seen if isinstance(e, ev.FinalTranscript)]
    assert finals == ["tell me about Paris", "actually, what about Rome?"]  # the blank line is no turn
    (interrupted,) = [e for e in seen if isinstance(e, ev.Interrupted)]
    history = engine.assistant.conversation.history
    assert [h.content for h in history[::2]] == finals
    assert history[1].cut and history[1].content == interrupted.heard and not history[3].cut
    assert "Paris" in " ".join(m.content for m in llm.calls[1])  # the typed turn sees the spoken one
