"""The `easel` command as a user runs it: a real process, a real local model, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EASEL = [sys.executable, "-m", "easel.cli"]


def easel(*args: str, stdin: str | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EASEL_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([*EASEL, *args], input=stdin, capture_output=True, text=True, env=env, timeout=180)


def test_models_lists_the_catalog_with_availability(easel_home: Path) -> None:
    listed = easel("models", "--task", "chat", "--json", home=easel_home)
    assert listed.returncode == 0, listed.stderr
    models = {m["id"]: m for m in json.loads(listed.stdout)}
    assert len(models) > 300
    assert models["local:smollm2-135m"]["available"] is True
    assert models["xai:grok-4"]["available"] is False
    assert "XAI_API_KEY" in models["xai:grok-4"]["unavailable_reason"]
    assert models["openai:gpt-5"]["context_window"] and models["openai:gpt-5"]["pricing"]["input_per_mtok"]

    table = easel("models", "--provider", "anthropic", home=easel_home)
    assert table.returncode == 0
    assert "anthropic:claude-sonnet-4-5" in table.stdout and "ANTHROPIC_API_KEY" in table.stdout
    assert "openai:" not in table.stdout


def test_models_rejects_an_unknown_task(easel_home: Path) -> None:
    result = easel("models", "--task", "poetry", home=easel_home)
    assert result.returncode == 2 and "unknown task" in result.stderr


def test_chat_streams_then_follows_up_and_lists_conversations(easel_home: Path) -> None:
    first = easel("chat", "-m", "local:smollm2-135m", "Write a haiku about fog", "--max-tokens", "20", "--seed", "3",
                  home=easel_home)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip()

    follow = easel("chat", "-c", "Make it darker", "--max-tokens", "20", home=easel_home)
    assert follow.returncode == 0, follow.stderr
    assert follow.stdout.strip()

    listed = easel("conversations", home=easel_home)
    assert listed.returncode == 0
    assert "Write a haiku about fog" in listed.stdout
    assert "1 of 1 conversations" in listed.stdout
    conv_id = next(w for w in listed.stdout.split() if w.startswith("conv_"))

    picked = easel("chat", "--conversation", conv_id, "One more line", "--max-tokens", "10", home=easel_home)
    assert picked.returncode == 0, picked.stderr
    assert "1 of 1 conversations" in easel("conversations", home=easel_home).stdout


def test_interactive_session_reads_turns_until_eof(easel_home: Path) -> None:
    result = easel("chat", "-m", "smollm2", "--max-tokens", "8", stdin="hello\nwho are you\n", home=easel_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("> ") >= 2


def test_chat_errors_are_one_clear_line_and_create_nothing(easel_home: Path) -> None:
    missing_key = easel("chat", "-m", "gpt-5", "hi", home=easel_home)
    assert missing_key.returncode == 1
    assert "OPENAI_API_KEY" in missing_key.stderr and "Traceback" not in missing_key.stderr
    unknown = easel("chat", "-m", "gpt5", "hi", home=easel_home)
    assert unknown.returncode == 1 and "openai:gpt-5" in unknown.stderr
    nothing = easel("chat", "-c", "hi", home=easel_home)
    assert nothing.returncode == 1 and "no conversation" in nothing.stderr
    assert "0 of 0 conversations" in easel("conversations", home=easel_home).stdout


@pytest.mark.parametrize("args", [["--help"], ["chat", "--help"]])
def test_help_works(args: list[str], easel_home: Path) -> None:
    assert easel(*args, home=easel_home).returncode == 0


def test_serve_refuses_a_public_address_without_keys(easel_home: Path) -> None:
    result = easel("serve", "--host", "0.0.0.0", "--port", "8999", home=easel_home)
    assert result.returncode == 2
    assert "EASEL_API_KEYS" in result.stderr
