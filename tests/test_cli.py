"""The `sayso` command: each bad input gives one clear sentence and a non-zero exit."""

from __future__ import annotations

import builtins
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sayso.audio.io import read_audio, write_audio
from sayso.cli import EXIT_ERROR, conversation, main
from sayso.config import Settings
from sayso.errors import ServiceUnavailable
from sayso.mind.llm.base import Message
from sayso.testing import FakeLLM, FakeSTT, FakeTTS, FakeVAD, fake_models, silence, tone
from sayso.voices.speaker import VoiceServices
from tests.speechdata import recordings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_clear_error(code: int, err: str, fragment: str) -> None:
    assert code == EXIT_ERROR
    assert err.startswith("sayso: ")
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def question(tmp_path: Path) -> Path:
    return recordings("vctk")[0].path


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "transcribe", str(tmp_path / "nope.wav"))
    assert_clear_error(code, err, "There is no file at")


def test_non_audio_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "report.mp3"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    code, _, err = run(capsys, "reply", str(path), "-o", str(tmp_path / "out.wav"))
    assert_clear_error(code, err, "not audio Sayso can read")


def test_corrupt_header(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    sf.write(path, tone(1.0).samples, 16000)
    data = bytearray(path.read_bytes())
    data[20:36] = bytes(16)  # zero the fmt chunk: format, channels, rate
    path.write_bytes(bytes(data))
    code, _, err = run(capsys, "transcribe", str(path))
    assert_clear_error(code, err, "header is corrupt")


def test_empty_recording(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    code, _, err = run(capsys, "reply", str(path), "-o", str(tmp_path / "o.wav"))
    assert_clear_error(code, err, "holds no audio samples")


def test_silent_recording(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_audio(tmp_path / "quiet.flac", silence(3.0))
    code, _, err = run(capsys, "reply", str(path), "-o", str(tmp_path / "o.wav"))
    assert_clear_error(code, err, "No speech was found")
    assert not (tmp_path / "o.wav").exists()


def test_two_hour_recording(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "meeting.flac"
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, subtype="PCM_16") as out:
        for _ in range(120):
            out.write(np.zeros(8000 * 60, dtype=np.int16))
    code, _, err = run(capsys, "transcribe", str(path))
    assert_clear_error(code, err, "lasts 2:00:00")


def test_unknown_voice(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "say", "hello", "-o", str(tmp_path / "x.wav"), "--voice", "scarlett")
    assert_clear_error(code, err, "There is no voice called 'scarlett'")


def test_unreachable_llm_url(capsys: pytest.CaptureFixture[str], question: Path, tmp_path: Path) -> None:
    code, _, err = run(
        capsys,
        "reply",
        str(question),
        "-o",
        str(tmp_path / "o.wav"),
        "--llm-url",
        "http://127.0.0.1:9",
        "--llm-timeout",
        "3",
    )
    assert_clear_error(code, err, "Cannot reach the LLM server")


def test_bad_setting_value(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "voices", "--max-reply-tokens", "many")
    assert_clear_error(code, err, "must be a whole number")


def test_voices_lists_presets_with_provenance(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "voices")
    assert code == 0
    assert "* joe" in out and "CC0" in out and "espeak-us-f" in out


def test_say_writes_speech(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "say", "Good morning.", "-o", str(tmp_path / "hi.mp3"), "--voice", "espeak-uk")
    assert code == 0
    assert read_audio(tmp_path / "hi.mp3").duration > 0.4


def test_transcribe_several_files(capsys: pytest.CaptureFixture[str]) -> None:
    recs = recordings("vctk")[:2]
    code, out, _ = run(capsys, "transcribe", *(str(r.path) for r in recs))
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(str(r.path)) for line, r in zip(lines, recs, strict=True))


def test_reply_prints_transcript_reply_and_timings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    question = write_audio(tmp_path / "q.ogg", read_audio(recordings("ljspeech")[1].path))
    code, out, _ = run(capsys, "reply", str(question), "-o", str(tmp_path / "a.wav"))
    assert code == 0
    assert "you said:" in out and "modern" in out.lower()
    for stage in ("models ready", "stt", "llm_first_token", "tts_first_audio", "first_audio"):
        assert stage in out
    assert read_audio(tmp_path / "a.wav").duration > 0.5


def test_chat_answers_typed_lines_with_no_progress_bar_in_the_conversation(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sayso", "chat"],
        input="My sister is called Ana.\nWhat is my sister called?\nWhat is the capital of France?\n"
        "What's 17 times 23?\nSet a timer for minus five minutes.\nquit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "paris" in out.lower() and "That's 391." in out and "below zero" in out and "sister is called Ana" in out
    # the memory embedder (transformers) loads during this chat, to keep and find the sister's name,
    # and the LLM for the capital: neither draws on the terminal
    terminal = result.stdout + result.stderr
    assert "Loading weights" not in terminal and "%|" not in terminal and "it/s]" not in terminal


def test_talk_without_devices_falls_back_to_typing_and_files(tmp_path: Path, isolated_home: Path) -> None:
    env = {
        "SAYSO_HOME": str(isolated_home),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # this checkout's code, where it is not the installed one
        "HF_HUB_OFFLINE": "1",
        "SAYSO_CONFIG": os.devnull,
        "AUDIODEV": "null",
    }
    result = subprocess.run(
        [sys.executable, "-m", "sayso", "talk"],
        input="Say hello.\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "No microphone was found" in result.stdout
    saved = sorted((isolated_home / "replies").glob("*.wav"))
    assert len(saved) == 2 and read_audio(saved[0]).duration > 0.3  # the reply, then the goodbye
    assert conversation.GOODBYE in result.stdout


def test_chat_says_a_line_is_too_long_for_the_model_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    llm = FakeLLM("Sure thing.")
    llm.context = 300
    typed = iter(["Please read all of this. " * 100, "Hello again."])

    def next_line(prompt: str = "") -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    models = fake_models(Settings(), vad=FakeVAD(), stt=FakeSTT(), llm=llm, tts=FakeTTS())
    monkeypatch.setattr(builtins, "input", next_line)
    monkeypatch.setattr(conversation, "Models", lambda settings: models)
    monkeypatch.setattr(conversation.embed, "preload", lambda: None)
    code, out, err = run(capsys, "chat")
    assert code == 0 and "too long for the language model" in err and "Traceback" not in err
    assert "Sure thing." in out and len(llm.calls) == 1


class _DownOnce(FakeLLM):
    """An LLM server that is down for the first request only."""

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        if not self.calls:
            self.calls.append(list(messages))
            raise ServiceUnavailable("Cannot reach the LLM server at http://127.0.0.1:9 (ConnectError).")
        yield from super().stream(messages, max_tokens)


def _chat_with(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], llm: FakeLLM, lines: list[Callable[[], str]]
) -> tuple[int, str, str]:
    """Run `sayso chat` on fakes; each typed line is a function (it may wait, or raise)."""
    typed = iter(lines)

    def next_line(prompt: str = "") -> str:
        print(prompt, end="")
        return next(typed, _end)()

    models = fake_models(Settings(), vad=FakeVAD(), stt=FakeSTT(), llm=llm, tts=FakeTTS())
    monkeypatch.setattr(builtins, "input", next_line)
    monkeypatch.setattr(conversation, "Models", lambda settings: models)
    monkeypatch.setattr(conversation.embed, "preload", lambda: None)
    return run(capsys, "chat")


def _end() -> str:
    raise EOFError


def test_chat_reports_a_failed_llm_call_and_goes_on_then_says_goodbye(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    llm = _DownOnce("Fine, thanks.")
    code, out, err = _chat_with(monkeypatch, capsys, llm, [lambda: "How are you?", lambda: "And now?"])
    assert code == 0 and "Cannot reach the LLM server" in err and "Traceback" not in err
    assert "Fine, thanks." in out and len(llm.calls) == 2
    assert out.rstrip().endswith(conversation.GOODBYE)


def test_chat_announces_a_timer_while_the_user_sits_at_the_prompt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def think_for_a_while() -> str:
        time.sleep(2.5)  # the timer falls due here, before the next Enter
        raise EOFError

    code, out, _ = _chat_with(monkeypatch, capsys, FakeLLM(), [lambda: "Set a timer for 1 second.", think_for_a_while])
    assert code == 0
    announced = out.index("timer", out.index("you> ", out.index("1 second")))  # after the next prompt
    assert announced < out.index(conversation.GOODBYE)


def test_ctrl_c_ends_a_chat_with_a_goodbye_not_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def ctrl_c() -> str:
        raise KeyboardInterrupt

    code, out, err = _chat_with(monkeypatch, capsys, FakeLLM(), [ctrl_c])
    assert code == 0 and conversation.GOODBYE in out and err == ""


def test_saved_replies_do_not_pile_up(tmp_path: Path, isolated_home: Path) -> None:
    services = VoiceServices(isolated_home)
    for index in range(conversation.KEEP_REPLIES + 5):
        conversation._say_typed("sayso", (services, tmp_path), [(f"Reply {index}.", tone(0.05))])
    kept = sorted(tmp_path.glob("reply-*.wav"))
    assert len(kept) == conversation.KEEP_REPLIES


def test_version_and_short_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("sayso 0.")
    with pytest.raises(SystemExit):
        main(["say", "--help"])
    help_text = capsys.readouterr().out
    assert "--output" in help_text and "--stt-model" not in help_text and "sayso settings" in help_text


def test_say_without_output_or_into_a_missing_folder_is_a_short_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for argv, fragment in (
        (["say", "hi"], "required: -o/--output"),
        (["say", "hi", "-o", str(tmp_path / "nowhere" / "x.wav")], "does not exist"),
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        err = capsys.readouterr().err
        assert done.value.code == 2 and fragment in err and len(err.strip().splitlines()) == 2
    assert not (tmp_path / "nowhere").exists()


def test_settings_lists_each_value_and_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "settings", "--voice", "espeak-uk")
    assert code == 0
    assert "voice = 'espeak-uk'  (flag --voice)" in out and "home = " in out and "($SAYSO_HOME)" in out
    assert "stt_model = 'tiny.en'  (default)" in out


def test_serve_on_a_busy_port_says_so_in_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, "serve", "--port", str(port))
    assert_clear_error(code, err, f"Port {port} on 127.0.0.1 is already in use")
    assert "Sayso is at" not in out
