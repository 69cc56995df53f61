"""Memory with the real all-MiniLM-L6-v2 embeddings: retrieval by meaning, forgetting, privacy,
per-user stores, and the `sayso memory` commands."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from sayso.cli import EXIT_ERROR, main
from sayso.config import Settings, load_settings
from sayso.mind import embed
from sayso.mind.embed import minilm
from sayso.mind.memory import MemoryStore, fact_in
from sayso.mind.mind import Mind
from sayso.store.db import Database
from sayso.testing import FakeLLM

NOW = 1_790_000_000.0


def mind_for(db: Database, user: str = "ana", llm: FakeLLM | None = None, **settings: str) -> Mind:
    fake = llm or FakeLLM("Okay.")
    mind = Mind(Settings(user=user, **settings), lambda: fake, db=db, clock=lambda: NOW)
    assert "an AI" in mind.respond("Hello.").text  # the conversation opens with the AI disclosure
    return mind


def say(mind: Mind, text: str) -> tuple[str, str]:
    reply = mind.respond(text)
    spoken = reply.text
    mind.conversation.record(text, spoken)
    return reply.route, spoken


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "sayso.db")


def test_facts_are_found_again_by_meaning_not_words(db: Database) -> None:
    mind = mind_for(db)
    for fact in ("My sister is Clara.", "I'm vegetarian.", "I work as a nurse.", "My dog's name is Biscuit."):
        say(mind, fact)
    assert mind.memory.store.count() == 4
    assert say(mind, "What do I do for a living?") == ("memory:recall", "You told me you work as a nurse.")
    assert say(mind, "Do I eat meat?") == ("memory:recall", "You told me you're vegetarian.")
    route, text = say(mind, "What's my mom's name?")  # close in meaning to "my sister", but someone else
    assert route == "memory:unknown" and "clara" not in text.lower()


def test_memories_last_across_conversations_and_reach_the_llm(db: Database) -> None:
    say(mind_for(db), "I'm allergic to peanuts.")
    llm = FakeLLM("How about a stir fry?")
    later = mind_for(db, llm=llm)  # a new conversation, same database
    assert say(later, "Can you suggest a snack?")[0] == "llm"
    sent = llm.calls[-1]
    assert "not a human" in sent[0].content and "allergic to peanuts" not in sent[0].content  # persona stays put
    assert sent[-2].role == "system" and "allergic to peanuts" in sent[-2].content  # memories just before the user


@pytest.mark.parametrize(
    "line",
    [
        "I have a job interview tomorrow and I'm nervous. Any tips?",
        "I'm vegetarian, what should I cook tonight",
        "My sister is Clara. Got ideas?",
    ],
)
def test_a_fact_that_carries_a_question_is_kept_quietly_and_the_question_answered(db: Database, line: str) -> None:
    llm = FakeLLM("Prepare a few short stories about your work.")
    mind = mind_for(db, llm=llm)
    assert say(mind, line) == ("llm", "Prepare a few short stories about your work.")
    assert mind.memory.store.count() == 1
    assert say(mind, "I'm allergic to peanuts.")[0] == "memory:store"  # a plain statement is still confirmed


def test_a_request_for_advice_goes_to_the_llm_with_the_fact_not_to_recall(db: Database) -> None:
    llm = FakeLLM("Try oat milk.")
    mind = mind_for(db, llm=llm)
    say(mind, "I'm lactose intolerant.")
    assert say(mind, "What can I put in my coffee instead of milk?") == ("llm", "Try oat milk.")
    assert "lactose intolerant" in " ".join(m.content for m in llm.calls[-1])
    assert say(mind, "Am I lactose intolerant?")[0] == "memory:recall"  # a question about the user still is


def test_forget_that_and_forget_with_nothing_to_forget(db: Database) -> None:
    mind = mind_for(db)
    assert say(mind, "Forget that.") == ("memory:forget", "There's nothing from just now for me to forget.")
    say(mind, "My brother is Tom.")
    say(mind, "I live in Lyon.")
    assert say(mind, "Forget that.") == ("memory:forget", "Okay, I've forgotten that you live in Lyon.")
    assert [m.text for m in mind.memory.store.all()] == ["My brother is Tom"]
    assert say(mind, "Forget about my brother.")[1] == "Okay, I've forgotten that your brother is Tom."
    assert say(mind, "Forget my favourite colour.") == ("memory:forget", "I don't have anything like that to forget.")
    assert mind.memory.store.count() == 0


def test_private_lines_and_memory_off_store_nothing(db: Database) -> None:
    mind = mind_for(db)
    say(mind, "This is private, but my boss is called Martin.")
    assert say(mind, "Remember that my PIN is 1234, it's private.")[0] == "memory:private"
    assert say(mind, "Turn off your memory.")[0] == "memory:off"
    say(mind, "My sister is Clara.")
    assert mind_for(db).memory.store.count() == 0  # memory stays off in the next conversation
    assert say(mind, "Turn your memory back on.")[0] == "memory:on"
    assert say(mind, "Remember that my locker code is 4512.")[1] == "Okay, I'll remember that your locker code is 4512."
    assert mind_for(Database(":memory:"), "bob", memory="off").memory.on is False


def test_each_user_has_their_own_memories(db: Database) -> None:
    say(mind_for(db, "ana"), "My sister is Clara.")
    bob = mind_for(db, "bob")
    assert say(bob, "What do you remember about me?") == ("memory:list", "I don't remember anything about you yet.")
    assert "Clara" in say(mind_for(db, "ana"), "What do you remember about me?")[1]


def test_what_counts_as_a_fact() -> None:
    assert fact_in("Hi. My dog is called Rex.") == ("My dog is called Rex", False)
    assert fact_in("Remember that the spare key is under the pot.") == ("the spare key is under the pot", True)
    for passing in ("I'm so tired today.", "I love you.", "I hate myself.", "I have a headache.", "My phone is dead."):
        assert fact_in(passing) is None, passing


def test_memory_commands(capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings()  # the test's own data directory (SAYSO_HOME)
    store = MemoryStore(Database.in_data_dir(settings.data_dir), "default", minilm)
    first = store.add("My sister is Clara", NOW)
    store.add("I'm vegetarian", NOW)
    assert main(["memory", "list"]) == 0
    assert "My sister is Clara" in capsys.readouterr().out
    assert main(["memory", "edit", str(first.id), "My sister is Clara Bow"]) == 0
    assert store.search("what is my sister called", k=1)[0][0].text == "My sister is Clara Bow"
    assert main(["memory", "export"]) == 0
    exported = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [m["text"] for m in exported["memories"]] == ["My sister is Clara Bow", "I'm vegetarian"]
    assert main(["memory", "delete", str(first.id)]) == 0
    assert [m.text for m in store.all()] == ["I'm vegetarian"]
    assert main(["memory", "delete", "999"]) == EXIT_ERROR
    assert "no memory number 999" in capsys.readouterr().err
    assert [m.text for m in store.all()] == ["I'm vegetarian"]  # a bad number deletes nothing
    assert main(["memory", "delete", "--all"]) == 0 and store.count() == 0


def test_preload_loads_the_embedder_off_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sayso talk` and `chat` start the ~4 s load at once without waiting for it."""
    loaders: list[threading.Thread] = []
    done = threading.Event()
    monkeypatch.setattr(embed, "minilm", lambda: (loaders.append(threading.current_thread()), done.set()))
    embed.preload()
    assert done.wait(10) and loaders[0] is not threading.current_thread()
