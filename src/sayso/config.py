"""Settings: one TOML file, every key overridable by an environment variable and a flag.

Precedence, lowest first: the defaults below, the config file (``$SAYSO_CONFIG`` or
``config.toml`` in the user's config directory), ``SAYSO_<KEY>`` environment variables, then
command-line flags (``--<key-with-dashes>``). All that Sayso stores lives in one data
directory: ``$SAYSO_HOME`` (or the ``home`` key), else the user's data directory.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from sayso.errors import ConfigError

STT_MODELS = ("tiny.en", "base")
LOCAL_MODELS = ("qwen2.5-coder-1.5b", "smollm2-135m")
ON_OFF = ("barge_in", "echo_cancel", "memory", "minor_mode")
_TYPE_WORDS = {"int": "a whole number", "float": "a number", "str": "text"}


@dataclass(frozen=True)
class Settings:
    """Every setting Sayso reads; each field's help is also its flag's help."""

    home: str = field(
        default="", metadata={"help": "Data directory for all Sayso stores (empty: the user's data directory)."}
    )
    trust_dir: str = field(
        default="",
        metadata={"help": "Folder for the signing key and ledger checkpoints, apart from the data (empty: beside it)."},
    )
    stt_model: str = field(
        default="tiny.en", metadata={"help": "Speech-to-text model: tiny.en (fast) or base (accurate)."}
    )
    llm_url: str = field(
        default="", metadata={"help": "Base URL of an OpenAI-compatible server (empty: the embedded model)."}
    )
    local_model: str = field(
        default="qwen2.5-coder-1.5b",
        metadata={"help": "Embedded language model: qwen2.5-coder-1.5b (answers well) or smollm2-135m (old laptops)."},
    )
    llm_model: str = field(default="local", metadata={"help": "Model name sent to the OpenAI-compatible server."})
    llm_api_key: str = field(
        default="", metadata={"help": "API key for the OpenAI-compatible server, if it needs one."}
    )
    llm_timeout: float = field(default=30.0, metadata={"help": "Seconds to wait for the OpenAI-compatible server."})
    max_reply_tokens: int = field(default=72, metadata={"help": "Longest reply, in LLM tokens."})
    voice: str = field(default="joe", metadata={"help": "Voice that speaks the replies."})
    threads: int = field(default=0, metadata={"help": "CPU threads for the models (0: all cores)."})
    max_input_seconds: float = field(default=600.0, metadata={"help": "Longest input recording accepted, in seconds."})
    assistant_name: str = field(default="Sayso", metadata={"help": "Name the assistant goes by."})
    vad_threshold: float = field(default=0.5, metadata={"help": "Speech probability above which a frame is speech."})
    endpoint_silence: float = field(
        default=0.35, metadata={"help": "Seconds of silence that end a turn that sounds finished."}
    )
    endpoint_unfinished_silence: float = field(
        default=1.5,
        metadata={"help": "Seconds of silence that end a turn ending in 'and', 'um' or an unfinished clause."},
    )
    barge_in: str = field(default="on", metadata={"help": "Let speech interrupt Sayso while it talks: on or off."})
    barge_in_min_speech: float = field(
        default=0.3, metadata={"help": "Seconds of speech needed to interrupt; shorter sounds let the reply resume."}
    )
    backchannels: str = field(
        default="mm-hm,mhm,hmm,uh-huh,yeah,yes,yep,okay,ok,right,sure,i see",
        metadata={"help": "Comma-separated words that do not interrupt Sayso (listening noises)."},
    )
    echo_cancel: str = field(
        default="on", metadata={"help": "Cancel Sayso's own voice coming back into the microphone: on or off."}
    )
    user: str = field(
        default="default", metadata={"help": "Whose memories, notes, lists and reminders to use (one name per person)."}
    )
    memory: str = field(
        default="on", metadata={"help": "Remember what the user shares across conversations: on or off."}
    )
    persona_style: str = field(
        default="",
        metadata={"help": "The assistant's manner in a few words, e.g. 'cheerful and curious' (empty: plain)."},
    )
    ai_disclosure: str = field(
        default="Just so you know, I'm {name}, an AI assistant, not a person.",
        metadata={"help": "The spoken AI disclosure at the start of each conversation ({name}: assistant_name)."},
    )
    disclosure_hours: float = field(
        default=3.0, metadata={"help": "Repeat the AI disclosure after this many hours of conversation (at most 3)."}
    )
    break_minutes: float = field(
        default=60.0, metadata={"help": "Suggest a break after this many minutes of conversation (0: never)."}
    )
    locale: str = field(
        default="US", metadata={"help": "Country code for crisis resources (US: 988; GB: Samaritans 116 123; ...)."}
    )
    crisis_line: str = field(
        default="", metadata={"help": "A sentence naming the crisis line to offer, instead of the locale's own."}
    )
    minor_mode: str = field(
        default="off", metadata={"help": "Stricter content and more frequent breaks for a young user: on or off."}
    )

    @property
    def data_dir(self) -> Path:
        """The directory that holds everything Sayso stores (created on first use)."""
        path = Path(self.home).expanduser() if self.home else Path(platformdirs.user_data_dir("sayso"))
        path.mkdir(mode=0o700, parents=True, exist_ok=True)  # a user's memories and keys: theirs alone
        return path

    @property
    def trust_path(self) -> Path:
        """The trust folder: the installation key and the ledger's checkpoint, apart from the data."""
        return Path(self.trust_dir).expanduser() if self.trust_dir else default_trust_dir(self.data_dir)

    @property
    def cpu_threads(self) -> int:
        """Threads to give each model."""
        return self.threads if self.threads > 0 else (os.cpu_count() or 1)


def default_trust_dir(data_dir: Path) -> Path:
    """The trust folder when none is configured: beside the data folder, not inside it."""
    return data_dir.parent / f"{data_dir.name}-trust"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file is read from."""
    env = os.environ if env is None else env
    if env.get("SAYSO_CONFIG"):
        return Path(env["SAYSO_CONFIG"]).expanduser()
    return Path(platformdirs.user_config_dir("sayso")) / "config.toml"


def env_name(key: str) -> str:
    """The environment variable that overrides ``key``."""
    return "SAYSO_" + key.upper()


def flag_name(key: str) -> str:
    """The command-line flag that overrides ``key``."""
    return "--" + key.replace("_", "-")


def field_help(key: str) -> str:
    """One line of help for a setting."""
    return str(Settings.__dataclass_fields__[key].metadata.get("help", ""))


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Settings:
    """Build the settings from defaults, the config file, the environment and flags."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    values.update(_read_file(path or config_path(env), required=path is None and bool(env.get("SAYSO_CONFIG"))))
    values.update({f.name: env[env_name(f.name)] for f in fields(Settings) if env_name(f.name) in env})
    values.update({k: v for k, v in (flags or {}).items() if v is not None})
    return _validated(_coerce_all(values))


def _read_file(path: Path, required: bool = False) -> dict[str, Any]:
    if not path.exists():
        if required:  # a file the user named by $SAYSO_CONFIG must be there: ignoring it hides a typo
            raise ConfigError(f"SAYSO_CONFIG names {path}, which does not exist; create it or unset SAYSO_CONFIG.")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"The config file {path} is not valid TOML ({error}); fix or delete it.") from error
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"The config file {path} has unknown keys: {', '.join(unknown)}; "
            f"the known keys are {', '.join(sorted(known))}."
        )
    return data


def _coerce_all(values: Mapping[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in fields(Settings)}
    return {key: _coerce(key, value, str(types[key])) for key, value in values.items()}


def _coerce(key: str, value: Any, type_name: str) -> Any:
    wrong = ConfigError(f"The setting {key} must be {_TYPE_WORDS[type_name]}, not {value!r}.")
    if isinstance(value, bool):  # TOML true/false: right only for the on/off settings
        if key in ON_OFF:
            return "on" if value else "off"
        raise wrong
    try:
        if type_name == "int":
            number = float(value)
            if not number.is_integer():  # int(2.5) would quietly mean 2
                raise wrong
            return int(number)
        if type_name == "float":
            return float(value)
        return str(value).strip().lower() if key in ON_OFF else str(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise wrong from error


def _validated(values: dict[str, Any]) -> Settings:
    settings = dataclasses.replace(Settings(), **values)
    if settings.stt_model not in STT_MODELS:
        raise ConfigError(f"stt_model must be one of {', '.join(STT_MODELS)}, not {settings.stt_model!r}.")
    if settings.local_model not in LOCAL_MODELS:
        raise ConfigError(f"local_model must be one of {', '.join(LOCAL_MODELS)}, not {settings.local_model!r}.")
    for key in ("llm_timeout", "max_reply_tokens", "max_input_seconds"):
        if getattr(settings, key) <= 0:
            raise ConfigError(f"The setting {key} must be above zero.")
    if settings.threads < 0:
        raise ConfigError("The setting threads must be 0 (all cores) or more.")
    if settings.llm_url and not settings.llm_url.startswith(("http://", "https://")):
        raise ConfigError(f"llm_url must start with http:// or https://, not {settings.llm_url!r}.")
    for key in ON_OFF:
        if getattr(settings, key) not in ("on", "off"):
            raise ConfigError(f"The setting {key} must be on or off, not {getattr(settings, key)!r}.")
    for key in ("endpoint_silence", "endpoint_unfinished_silence", "barge_in_min_speech"):
        if getattr(settings, key) <= 0:
            raise ConfigError(f"The setting {key} must be above zero.")
    if not 0 < settings.vad_threshold < 1:
        raise ConfigError("The setting vad_threshold must be between 0 and 1.")
    return settings
