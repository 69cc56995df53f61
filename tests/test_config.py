from __future__ import annotations

from pathlib import Path

import pytest

from sayso.config import Settings, config_path, load_settings
from sayso.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_env_or_flags(tmp_path: Path) -> None:
    settings = load_settings(env={}, path=tmp_path / "missing.toml")
    assert settings == Settings()


def test_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'voice = "espeak-us"\nmax_reply_tokens = 50\nstt_model = "base"\n')
    env = {"SAYSO_VOICE": "espeak-uk", "SAYSO_MAX_REPLY_TOKENS": "70"}
    settings = load_settings({"voice": "joe"}, env=env, path=path)
    assert settings.voice == "joe"  # flag
    assert settings.max_reply_tokens == 70  # environment, converted to int
    assert settings.stt_model == "base"  # file


def test_config_path_follows_sayso_config(tmp_path: Path) -> None:
    assert config_path({"SAYSO_CONFIG": str(tmp_path / "x.toml")}) == tmp_path / "x.toml"


def test_sayso_home_sets_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings(env={"SAYSO_HOME": str(tmp_path / "data")}, path=tmp_path / "none.toml")
    assert settings.data_dir == tmp_path / "data"
    assert settings.data_dir.is_dir()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("voice = ", "not valid TOML"),
        ('colour = "red"\n', "unknown keys: colour"),
        ('max_reply_tokens = "lots"\n', "must be a whole number"),
        ('stt_model = "large"\n', "stt_model must be one of"),
        ('local_model = "gpt-5"\n', "local_model must be one of qwen2.5-coder-1.5b, smollm2-135m, not 'gpt-5'"),
        ("llm_timeout = 0\n", "llm_timeout must be above zero"),
        ('llm_url = "localhost:8080"\n', "must start with http"),
        ("threads = 2.5\n", "threads must be a whole number, not 2.5"),
        ('minor_mode = "yes"\n', "minor_mode must be on or off, not 'yes'"),
        ('memory = "sometimes"\n', "memory must be on or off"),
        ("voice = true\n", "voice must be text, not True"),
    ],
)
def test_bad_config_gives_a_clear_error(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(env={}, path=write(tmp_path / "c.toml", text))


def test_the_embedded_model_is_one_setting_away(tmp_path: Path) -> None:
    assert load_settings(env={}, path=tmp_path / "none.toml").local_model == "qwen2.5-coder-1.5b"
    assert load_settings(env={"SAYSO_LOCAL_MODEL": "smollm2-135m"}, path=tmp_path / "none.toml").local_model == (
        "smollm2-135m"
    )


def test_on_off_settings_take_toml_booleans_and_any_case(tmp_path: Path) -> None:
    settings = load_settings(env={}, path=write(tmp_path / "c.toml", 'minor_mode = true\nmemory = "OFF"\n'))
    assert (settings.minor_mode, settings.memory) == ("on", "off")
    assert load_settings(env={"SAYSO_THREADS": "2.0"}, path=tmp_path / "none.toml").threads == 2


def test_sayso_config_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SAYSO_CONFIG names .*missing.toml, which does not exist"):
        load_settings(env={"SAYSO_CONFIG": str(tmp_path / "missing.toml")})
