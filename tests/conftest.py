"""Shared fixtures: an isolated data directory per test, the shared speech set, real models once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sayso import config
from sayso.config import Settings
from sayso.realtime.models import Models

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and no user config file."""
    for key in list(os.environ):
        if key.startswith("SAYSO_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    monkeypatch.setenv("SAYSO_HOME", str(home))
    monkeypatch.setenv("SAYSO_CONFIG", os.devnull)  # an empty config file
    # Settings() built in code (not from the environment) must not reach the real user's data either
    monkeypatch.setattr(config.platformdirs, "user_data_dir", lambda app: str(tmp_path / "user-data" / app))
    yield home


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models-home")


@pytest.fixture(scope="session")
def models(models_home: Path) -> Models:
    """The real embedded models, loaded once for the whole session."""
    return Models(Settings(home=str(models_home)))
