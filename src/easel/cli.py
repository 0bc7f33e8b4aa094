"""The `easel` command: serve, models, chat, conversations.

Sync only at this edge: each command opens a studio in-process (no server needed) and runs
one coroutine. Long lists are tables; answers stream to the terminal as they arrive.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from easel.config import load_settings
from easel.errors import EaselError
from easel.cli_web import WebBackend, WebMode, web_options
from easel.cli_chat_parts import ReasoningEffortOption

app = typer.Typer(help="easel: one studio for generative models.", no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except EaselError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from exc


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8321, or EASEL_PORT).")] = None,
) -> None:
    """Start the studio's HTTP server."""
    import uvicorn

    from easel.api.app import create_app

    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = load_settings(**overrides)
    if not _is_loopback(settings.host) and not settings.api_keys:
        err.print(f"[red]refusing to bind {settings.host}[/red]: outside 127.0.0.1 easel needs authentication. "
                  "Set EASEL_API_KEYS (a JSON list of keys) or bind 127.0.0.1.")
        raise typer.Exit(2)
    err.print(f"easel {settings.home} -> http://{settings.host}:{settings.port}")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=5)


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@app.command()
def models(
    task: Annotated[str | None, typer.Option(help="chat, image, upscale or video")] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider's models.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the model catalog, with whether each model is usable now."""
    from easel.catalog.catalog import Catalog
    from easel.providers.base import ProviderRegistry

    if task is not None and task not in ("chat", "image", "upscale", "video"):
        err.print(f"[red]error:[/red] unknown task '{task}'; pick one of chat, image, upscale, video")
        raise typer.Exit(2)
    settings = load_settings()
    registry = ProviderRegistry.from_entry_points(settings)
    catalog = Catalog.load([e for p in registry for e in p.extra_models()])
    entries = catalog.list(task=task, provider=provider)  # type: ignore[arg-type]
    rows = []
    for entry in entries:
        prov = registry.get(entry.provider)
        availability = prov.availability(entry) if prov else None
        usable = bool(availability and availability.usable)
        reason = None if usable else (availability.reason if availability else "provider not installed")
        rows.append((entry, usable, reason))
    if as_json:
        data = [{**e.model_dump(mode="json"), "available": ok, "unavailable_reason": why} for e, ok, why in rows]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table(title=f"{len(rows)} models", caption="capabilities: R reasoning, V vision, T tools, W web search")
    table.add_column("id", no_wrap=True)
    table.add_column("task")
    for column in ("context", "$/M in", "$/M out"):
        table.add_column(column, justify="right")
    table.add_column("caps")
    table.add_column("usable now", no_wrap=True)
    for entry, usable, reason in rows:
        caps = entry.capabilities
        flags = "".join(letter for letter, name in (("R", "reasoning"), ("V", "vision"), ("T", "tools"),
                                                    ("W", "web_search")) if getattr(caps, name))
        table.add_row(entry.id, entry.task, f"{entry.context_window:,}" if entry.context_window else "-",
                      _price(entry.pricing.input_per_mtok), _price(entry.pricing.output_per_mtok), flags,
                      "[green]yes[/green]" if usable else f"[yellow]no[/yellow]: {escape(reason or '')}")
    out.print(table)


@app.command()
def chat(
    prompt: Annotated[str | None, typer.Argument(help="What to ask; omit for an interactive session.")] = None,
    model: Annotated[str | None, typer.Option("-m", "--model", help="Model id or alias.")] = None,
    cont: Annotated[bool, typer.Option("-c", "--continue", help="Follow up in the last conversation.")] = False,
    conversation: Annotated[str | None, typer.Option("--conversation", help="Follow up in this conversation.")] = None,
    system: Annotated[str | None, typer.Option("-s", "--system", help="System prompt for a new conversation.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Longest answer, in tokens.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed, where the model supports one.")] = None,
    web: Annotated[WebMode | None, typer.Option("--web", help="Live web: search, read pages, cite sources "
                                                "(auto: when the question needs it).")] = None,
    web_backend: Annotated[WebBackend, typer.Option("--web-backend", help="Who searches for --web: easel, or the "
                                                    "provider's own search (native; OpenAI, OpenRouter, Gemini, "
                                                    "Anthropic).")] = WebBackend.easel,
    image_model: Annotated[str | None, typer.Option("--image-model", help="Image model for pictures asked for "
                                                    "in the chat (/image <prompt>, 'draw ...').")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Folder to copy pictures into.")] = None,
    image: Annotated[list[Path] | None, typer.Option("--image", help="An image to send with the message "
                                                     "(repeatable); read by OCR for models that cannot see.")] = None,
    think_first: Annotated[bool, typer.Option("--think-first", help="Two passes: a plan (shown as thinking), "
                                              "then the answer with the plan in context.")] = False,
    effort: Annotated[ReasoningEffortOption | None, typer.Option("--effort", help="Reasoning effort, for models "
                                                                 "that have a control for it.")] = None,
) -> None:
    """Chat with a model; answers stream to the terminal and are kept as a conversation."""
    from easel.cli_chat import run_chat

    settings = load_settings()
    options = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed,
               "think_first": think_first or None, "reasoning_effort": effort.value if effort else None,
               **web_options(web, web_backend)}
    _run(run_chat(settings, out, err, prompt=prompt, model=model, cont=cont, conversation_id=conversation,
                  system=system, options={k: v for k, v in options.items() if v is not None},
                  image_model=image_model, image_output=output, images=image))


@app.command()
def conversations(
    limit: Annotated[int, typer.Option(help="How many to list.")] = 20,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Only titles containing this.")] = None,
) -> None:
    """List conversations, newest first."""
    from easel.cli_chat import list_conversations

    _run(list_conversations(load_settings(), out, limit=limit, search=search))


@app.command()
def image(
    prompt: Annotated[str, typer.Argument(help="What to draw (or use the prompt-builder flags).")] = "",
    model: Annotated[str | None, typer.Option("-m", "--model", help="Image model id or alias.")] = None,
    aspect: Annotated[str | None, typer.Option("--aspect", help="1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3, 21:9")] = None,
    count: Annotated[int, typer.Option("-n", help="How many images.")] = 1,
    seed: Annotated[int | None, typer.Option(help="Seed, for reproducible images.")] = None,
    steps: Annotated[int | None, typer.Option(help="Sampling steps (diffusion models).")] = None,
    negative: Annotated[str | None, typer.Option("--negative", help="What to keep out of the picture.")] = None,
    subject: Annotated[str | None, typer.Option(help="Prompt builder: the subject.")] = None,
    setting: Annotated[str | None, typer.Option(help="Prompt builder: the setting.")] = None,
    lighting: Annotated[str | None, typer.Option(help="Prompt builder: the lighting.")] = None,
    camera: Annotated[str | None, typer.Option(help="Prompt builder: the camera angle.")] = None,
    mood: Annotated[str | None, typer.Option(help="Prompt builder: the mood.")] = None,
    style: Annotated[str | None, typer.Option(help="Prompt builder: the style.")] = None,
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Folder for the images.")] = Path("."),
) -> None:
    """Generate images; shows a progress bar and prints the saved paths."""
    from easel.cli_images import run_image

    parts = {"subject": subject, "setting": setting, "lighting": lighting, "camera_angle": camera, "mood": mood,
             "style": style}
    fields: dict[str, Any] = {"prompt": prompt, "model": model, "aspect_ratio": aspect, "n": count, "seed": seed,
                              "steps": steps, "negative_prompt": negative}
    if any(parts.values()):
        fields["prompt_parts"] = {k: v for k, v in parts.items() if v}
    _run_checked(run_image(load_settings(), out, err, request_fields={k: v for k, v in fields.items()
                                                                      if v is not None}, outdir=outdir))


@app.command()
def upscale(
    source: Annotated[Path, typer.Argument(help="The image to upscale.")],
    scale: Annotated[int, typer.Option("-x", "--scale", help="2 or 4.")] = 4,
    model: Annotated[str | None, typer.Option("-m", "--model", help="Upscale model id.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where to write the result.")] = None,
) -> None:
    """Upscale an image by 2 or 4 (Real-ESRGAN locally by default)."""
    from easel.cli_images import run_upscale

    _run_checked(run_upscale(load_settings(), out, err, source=source, scale=scale, model=model, output=output))


@app.command()
def jobs(
    limit: Annotated[int, typer.Option(help="How many to list.")] = 20,
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded, failed or canceled")] = None,
) -> None:
    """List recent jobs."""
    from easel.cli_images import list_jobs

    _run(list_jobs(load_settings(), out, limit=limit, status=status))


@app.command()
def pull(
    repo_id: Annotated[str, typer.Argument(help="Hub repo id (owner/name) or a local pipeline folder.")],
    name: Annotated[str | None, typer.Option(help="Model name: local:diffusers/NAME.")] = None,
    revision: Annotated[str, typer.Option(help="Branch, tag or commit.")] = "main",
    all_files: Annotated[bool, typer.Option("--all-files", help="Fetch every file, not just what loads.")] = False,
) -> None:
    """Download a diffusers pipeline from the Hugging Face Hub (HF_TOKEN, HF_ENDPOINT) into EASEL_HOME."""
    from easel.cli_pull import run_pull_cli

    try:
        run_pull_cli(repo_id, load_settings(), out, name=name, revision=revision, all_files=all_files)
    except EaselError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from exc


def _run_checked(coro: Coroutine[Any, Any, T]) -> T:
    """Like _run, but bad input (a pydantic error from the request vocabulary) is one clear line too."""
    from pydantic import ValidationError

    try:
        return _run(coro)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        err.print(f"[red]error:[/red] {escape(where)}: {escape(first.get('msg', 'invalid'))}")
        raise typer.Exit(2) from exc


from easel.cli_compare import compare as _compare  # noqa: E402  (a command kept in its own module)

app.command("compare")(_compare)

from easel.cli_arena import battle as _battle, leaderboard as _leaderboard  # noqa: E402  (kept in their own module)

app.command("battle")(_battle)
app.command("leaderboard")(_leaderboard)

from easel.cli_workflows import register as _register_workflows  # noqa: E402  (run, workflows)

_register_workflows(app)


def main() -> None:
    app()




if __name__ == "__main__":
    main()
