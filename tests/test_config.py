"""Settings: the TOML file under EASEL_HOME, overridden by EASEL_* variables, overridden by flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from easel.config import load_settings

CONFIG = """
port = 9000
default_chat_model = "local:smollm2-135m"
[keys]
openai = "sk-from-file"
[[endpoints]]
name = "ollama"
base_url = "http://127.0.0.1:11434/v1"
models = ["llama3.2"]
[[local_models]]
name = "my-gguf"
path = "/models/my.gguf"
"""


def test_file_then_environment_then_overrides(easel_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (easel_home / "config.toml").write_text(CONFIG)
    settings = load_settings()
    assert settings.port == 9000
    assert settings.keys == {"openai": "sk-from-file"}
    assert settings.endpoints[0].models == ["llama3.2"]
    assert settings.local_models[0].path == Path("/models/my.gguf")
    assert settings.credential("openai", "OPENAI_API_KEY") == "sk-from-file"

    monkeypatch.setenv("EASEL_PORT", "9100")
    assert load_settings().port == 9100
    assert load_settings(port=9200).port == 9200


def test_defaults_without_a_file(easel_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.host, settings.port, settings.home) == ("127.0.0.1", 8321, easel_home)
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{easel_home / 'easel.db'}"
    monkeypatch.setenv("XAI_API_KEY", "xai-key")
    assert load_settings().credential("xai", "XAI_API_KEY") == "xai-key"
