"""The finished-thought rule and the barge-in verdicts."""

from __future__ import annotations

import pytest

from sayso.config import Settings, load_settings
from sayso.errors import ConfigError
from sayso.realtime.turn_taking import TurnRules, is_backchannel, looks_finished

RULES = TurnRules.from_settings(Settings())


@pytest.mark.parametrize(
    "text", ["What is the capital of France?", "Tell me a joke.", "I need eggs", "set a timer for ten minutes"]
)
def test_finished_thoughts_end_after_the_short_silence(text: str) -> None:
    assert looks_finished(text)
    assert RULES.silence_needed(text) == RULES.endpoint_silence


@pytest.mark.parametrize(
    "text", ["I need eggs and", "I need eggs and.", "So, um", "Remind me to call the", "Well,", "I think that...", ""]
)
def test_unfinished_thoughts_wait_longer(text: str) -> None:
    assert not looks_finished(text)
    assert RULES.silence_needed(text) == RULES.endpoint_unfinished_silence > RULES.endpoint_silence


def test_backchannels_are_only_listening_noises() -> None:
    assert is_backchannel("Mm-hm.", RULES.backchannels)
    assert is_backchannel("Yeah, okay.", RULES.backchannels)
    assert not is_backchannel("Yeah, but what about Rome?", RULES.backchannels)
    assert not is_backchannel("", RULES.backchannels)


def test_barge_in_verdicts() -> None:
    short = RULES.barge_in_min_speech / 2
    assert RULES.barge_in_verdict(short, 0.05, None) == "wait"
    assert RULES.barge_in_verdict(short, 0.3, None) == "resume"  # a cough
    assert RULES.barge_in_verdict(0.5, 0.2, None) == "wait"  # words not known yet
    assert RULES.barge_in_verdict(0.5, 0.2, "") == "resume"  # a noise with no words
    assert RULES.barge_in_verdict(0.5, 0.2, "uh-huh") == "resume"
    assert RULES.barge_in_verdict(0.5, 0.2, "stop") == "interrupt"
    assert RULES.barge_in_verdict(1.2, 0.0, None) == "interrupt"  # long speech does not wait for words


def test_the_rules_follow_the_settings() -> None:
    rules = TurnRules.from_settings(Settings(endpoint_silence=0.5, backchannels="aha"))
    assert rules.silence_needed("Hello there.") == 0.5
    assert is_backchannel("Aha!", rules.backchannels) and not is_backchannel("yeah", rules.backchannels)


@pytest.mark.parametrize(
    ("key", "value"),
    [("barge_in", "maybe"), ("echo_cancel", "yes"), ("endpoint_silence", "0"), ("vad_threshold", "1.5")],
)
def test_bad_turn_taking_settings_are_refused_with_a_sentence(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_settings({key: value})
