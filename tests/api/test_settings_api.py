"""GET /api/settings: key status without keys, local models and their memory, the data folder."""

from __future__ import annotations

import pytest

from tests.api.conftest import Studio
from tests.fakes import openai_fake

CONFIGURED = {"openai", "xai", "deepseek", "anthropic", "gemini"}


def test_providers_say_whether_a_key_is_set_never_what_it_is(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk-from-the-environment")  # read at request time
    with studio.http() as http:
        response = http.get("/api/settings")
    assert response.status_code == 200
    text = response.text
    for secret in (openai_fake.FAKE_KEY, "test-key", "gsk-from-the-environment"):
        assert secret not in text
    body = response.json()
    providers = {p["name"]: p for p in body["providers"]}

    for name in CONFIGURED | {"groq"}:
        assert providers[name]["has_key"] is True and providers[name]["missing"] is None
        assert providers[name]["models_count"] > 0
    assert providers["xai"]["credentials_env"] == "XAI_API_KEY"
    assert providers["xai"]["usable_count"] == providers["xai"]["models_count"]

    mistral = providers["mistral"]
    assert mistral["has_key"] is False and mistral["needs_key"] is True
    assert mistral["missing"] == "set MISTRAL_API_KEY" and mistral["usable_count"] == 0
    assert providers["replicate"]["missing"] == "set REPLICATE_API_TOKEN"

    local = providers["local"]
    assert local["needs_key"] is False and local["missing"] is None and local["credentials_env"] is None


def test_local_models_data_folder_and_database(studio: Studio) -> None:
    with studio.http() as http:
        body = http.get("/api/settings").json()
    assert body["data_folder"] == str(studio.settings.home)
    kind = body["database"]["kind"]
    assert kind == ("sqlite" if studio.settings.resolved_database_url.startswith("sqlite") else "postgresql")
    if kind == "sqlite":
        assert body["database"]["file"].endswith("test.db")
    else:
        assert body["database"]["file"] is None
    assert "postgresql://" not in str(body) and "sqlite+aiosqlite" not in str(body)
    assert body["plugin_failures"] == {}

    local = {m["id"]: m for m in body["local_models"]}
    assert all(model_id.startswith("local:") for model_id in local)
    smol = local["local:smollm2-135m"]
    assert smol["installed"] is True and smol["reason"] is None and smol["task"] == "chat"
    assert smol["loaded"] is False and "memory_mb" not in smol
    assert {"local:illustrator", "local:realesrgan-x4"} <= set(local)
    missing = [m for m in local.values() if not m["installed"]]
    assert all(m["reason"] for m in missing)  # each says what to run or install


def test_a_loaded_local_model_shows_its_memory(studio: Studio) -> None:
    with studio.http() as http:
        answer = http.post("/v1/chat/completions", json={
            "model": "local:smollm2-135m", "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}]})
        assert answer.status_code == 200
        body = http.get("/api/settings").json()
    smol = next(m for m in body["local_models"] if m["id"] == "local:smollm2-135m")
    assert smol["loaded"] is True
    assert isinstance(smol["memory_mb"], float)
