"""The page in a real headless Chromium (Debian's), with a fake microphone playing a spoken question.

The question is synthesised with Piper; the server runs the real models on a real uvicorn.
Chromium loops the file, so the question is followed by a long silence.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from sayso.audio.frames import Audio
from sayso.audio.io import write_audio
from sayso.realtime.models import Models
from sayso.speech.normalize import normalize
from sayso.voices.catalog import find_voice
from tests.server.conftest import live_server

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
QUESTION = "What is the capital of France?"

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def question_wav(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s of silence, the spoken question, then 29 s of silence (Chromium loops the file: the question
    must not come again while a slow, loaded machine still thinks), as 48 kHz 16-bit WAV."""
    speech = models.tts(find_voice("joe")).synthesize(QUESTION).resampled(48_000)
    quiet = np.zeros(48_000, dtype=np.float32)
    audio = Audio(np.concatenate([quiet, speech.samples, *[quiet] * 29]), 48_000)
    return write_audio(tmp_path_factory.mktemp("browser") / "question.wav", audio)


@pytest.fixture
def browser(question_wav: Path) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Debian's chromium and chromium-driver are missing: run scripts/setup.sh")
    profile = tempfile.mkdtemp(prefix="sayso-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={question_wav}",
        "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={profile}", "--window-size=1100,900",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, script: str, timeout: float = 90.0) -> Any:
    """Poll a JavaScript expression until it is truthy; fail with the page's state otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    state = driver.execute_script(
        "return {status: document.getElementById('status').textContent, "
        "error: document.getElementById('error').textContent, stats: window.sayso.stats}"
    )
    raise AssertionError(f"timed out waiting for {script}; page state: {state}")


def test_the_page_hears_a_question_answers_aloud_and_stops(models: Models, browser: Any) -> None:
    models.warm(find_voice("joe"))
    with live_server(models) as live:
        browser.get(f"http://{live.url}/")
        assert browser.title == "Sayso"
        browser.find_element("id", "start").click()
        transcript = wait_for(browser, "window.sayso.stats.transcripts[0]")
        # the page's audio reaches STT whole: at most one word in six misheard (tiny.en heard
        # "friends" for "France" in this browser-processed clip: noise suppression and gain control)
        assert jiwer.wer(normalize(QUESTION), normalize(transcript)) <= 1 / 6, transcript
        # let 1.5 s of the reply play, so that some words are heard before the stop
        wait_for(browser, "window.sayso.stats.audioBytes > 0 && window.sayso.player.played() > 36000")
        played_before = browser.execute_script("return window.sayso.player.played()")
        reply_bubble = browser.find_element("css selector", ".msg.assistant").text
        assert reply_bubble  # the reply's words are shown as they are spoken
        screenshot = Path(tempfile.mkdtemp(prefix="sayso-browser-")) / "page.png"
        browser.save_screenshot(str(screenshot))
        print(f"screenshot: {screenshot}")
        browser.find_element("id", "stop").click()
        stopped = wait_for(browser, "window.sayso.stats.interrupted > 0 && window.sayso.player.segment === null")
        assert stopped
        after_stop = browser.execute_script("return window.sayso.player.chunks.length")
        shown = browser.find_element("css selector", ".msg.assistant").text.replace(" (interrupted)", "")
        history = _wait_history(lambda: live.workspace.mind("local").conversation.history)
        events = browser.execute_script("return window.sayso.stats.events")
        browser.find_element("css selector", ".tab[data-tab=voices]").click()
        card = wait_for(
            browser, "document.querySelector('#voice-list .card') && document.querySelector('#voice-list').innerText"
        )
        browser.save_screenshot(str(screenshot.with_name("voices.png")))
    assert played_before > 0 and after_stop == 0
    assert normalize(history[0].content) == normalize(transcript), "\n".join(events)
    # the stop cut the reply: the history keeps the part that was heard, which the page had shown
    assert history[1].content and shown.startswith(history[1].content)
    assert "Consent:" in card and "Provenance:" in card and "joe" in card


def _wait_history(history: Callable[[], list[Any]]) -> list[Any]:
    deadline = time.monotonic() + 10
    while len(history()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return history()


def test_typing_without_a_microphone_and_the_memory_page(models: Models, browser: Any) -> None:
    """The text box works on its own (a spoken reply, no Start needed); the badge says the server
    is there; the memory page lists what was kept, forgets one thing, then says it is empty."""
    models.warm(find_voice("joe"))
    with live_server(models) as live:
        browser.get(f"http://{live.url}/")
        assert wait_for(browser, "document.getElementById('status').dataset.state === 'ready'")
        assert browser.execute_script("return document.querySelector('link[rel=icon]').href").endswith("favicon.svg")
        for line in ("What is 17 times 23?", "Remember that my sister is called Ana."):
            replies = browser.execute_script("return window.sayso.stats.replies")
            browser.find_element("id", "typed-text").send_keys(line + "\n")
            wait_for(browser, f"window.sayso.stats.replies > {replies}")
        bubbles = [e.text for e in browser.find_elements("css selector", ".msg")]
        assert bubbles[0] == "What is 17 times 23?" and "391" in bubbles[1]
        assert browser.execute_script("return window.sayso.stats.audioBytes") > 0  # answered aloud
        assert browser.execute_script("return window.sayso.stats.transcripts") == [
            "What is 17 times 23?", "Remember that my sister is called Ana."
        ]  # fmt: skip
        browser.find_element("css selector", ".tab[data-tab=memory]").click()
        kept = wait_for(
            browser, "document.querySelector('#memory-list li') && document.querySelector('#memory-list').innerText"
        )
        assert "ana" in kept.lower() and browser.find_element("id", "forget-all").is_displayed()
        browser.find_element("css selector", "#memory-list li button").click()
        wait_for(browser, "!document.getElementById('memory-empty').hidden")
        assert not browser.find_element("id", "forget-all").is_displayed()
        assert live.workspace.mind("local").memory.store.all() == []
