"""`easel compare`: one prompt on several models side by side in the terminal.

Opens a studio in-process like the other commands. Chat answers stream into one column per
model (live on a terminal; printed once at the end when piped), then a table of latency, time
to first token, tokens and cost. `--task image` runs one job per model, shows each job's
progress, saves the images to `-o DIR` and prints their paths. `--json` prints the stored
comparison instead.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from easel.config import Settings, load_settings

LOCAL_ACCOUNT = "acct_local"


def _ms(value: int | None) -> str:
    return "-" if value is None else f"{value:,} ms"


def _cost(value: float | None) -> str:
    if value is None:
        return "-"
    return "free" if value == 0 else f"${value:.5f}"


def columns_view(models: list[str], texts: list[str], states: list[str]) -> Table:
    """The answers side by side: one column per model, its state under its name."""
    grid = Table.grid(expand=True, padding=(0, 1))
    for _ in models:
        grid.add_column(ratio=1)
    grid.add_row(*[Panel(Text(text or "…"), title=escape(model), subtitle=state, title_align="left")
                   for model, text, state in zip(models, texts, states, strict=True)])
    return grid


def stats_table(answers: list[dict[str, Any]]) -> Table:
    table = Table(title="latency, tokens and cost")
    table.add_column("model", no_wrap=True)
    table.add_column("status")
    for name in ("latency", "TTFT", "tokens in", "tokens out", "cost"):
        table.add_column(name, justify="right")
    for answer in answers:
        status = answer["status"] if not answer.get("error") else f"failed: {answer['error']}"
        table.add_row(answer["model"], escape(status[:80]), _ms(answer["latency_ms"]), _ms(answer["ttft_ms"]),
                      str(answer["prompt_tokens"] if answer["prompt_tokens"] is not None else "-"),
                      str(answer["completion_tokens"] if answer["completion_tokens"] is not None else "-"),
                      _cost(answer["cost"]))
    return table


def _file_name(comparison_id: str, column: int, model: str, index: int, suffix: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-")
    return f"{comparison_id}-{column + 1}-{safe}-{index + 1}{suffix}"


async def run_compare(settings: Settings, out: Console, err: Console, *, prompt: str, models: list[str],
                      task: str | None, system: str | None, options: dict[str, Any], outdir: Path,
                      as_json: bool) -> bool:
    """Run the comparison; True if at least one column answered."""
    from easel.services.compare_run import ColumnDelta, ColumnDone, ColumnFailed, ColumnProgress
    from easel.studio import open_studio

    async with open_studio(settings) as services:
        run = await services.compare.start(owner_id=LOCAL_ACCOUNT, models=models, prompt=prompt,
                                           task=task,  # type: ignore[arg-type]  # checked by the command
                                           system_prompt=system, options=options)
        names = run.comparison.models
        texts = ["" for _ in names]
        states = ["queued" if run.comparison.task == "image" else "…" for _ in names]
        live = Live(columns_view(names, texts, states), console=err, refresh_per_second=8, transient=True) \
            if err.is_terminal and not as_json else None
        if live:
            live.start()
        try:
            async for event in run.events:
                if isinstance(event, ColumnDelta):
                    texts[event.column] += event.text
                elif isinstance(event, ColumnProgress):
                    states[event.column] = f"{event.progress:.0%} {event.message or ''}".strip()
                elif isinstance(event, ColumnDone):
                    states[event.answer.column] = "done"
                elif isinstance(event, ColumnFailed):
                    states[event.answer.column] = "failed"
                if live:
                    live.update(columns_view(names, texts, states))
        finally:
            if live:
                live.stop()
        view = await services.compare.get(owner_id=LOCAL_ACCOUNT, comparison_id=run.comparison.id)
        answers = [a.model_dump(mode="json") for a in view.turns[-1].answers]
        if as_json:
            sys.stdout.write(json.dumps(view.model_dump(mode="json"), indent=2) + "\n")
            return any(a["status"] == "complete" for a in answers)
        if view.task == "image":
            outdir.mkdir(parents=True, exist_ok=True)
            for answer in answers:
                for index, image in enumerate(answer["images"]):
                    path, _ = await services.assets.open_content(owner_id=LOCAL_ACCOUNT, asset_id=image["asset_id"])
                    target = outdir / _file_name(view.id, answer["column"], answer["model"], index, path.suffix
                                                 or ".png")
                    shutil.copyfile(path, target)
                    out.print(str(target))
        else:
            final = [a["content"] if a["status"] == "complete" else f"error: {a['error']}" for a in answers]
            out.print(columns_view(names, final, [a["status"] for a in answers]))
        out.print(stats_table(answers))
        err.print(f"[dim]comparison {view.id}[/dim]")
    return any(a["status"] == "complete" for a in answers)


def compare(
    prompt: Annotated[str, typer.Argument(help="The prompt every model answers.")],
    models: Annotated[list[str], typer.Option("-m", "--model", help="A model to compare (2 to 8; repeat -m).")],
    task: Annotated[str | None, typer.Option("--task", help="chat or image (default: the first model's).")] = None,
    system: Annotated[str | None, typer.Option("-s", "--system", help="System prompt (chat).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Longest answer, in tokens (chat).")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature (chat).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed, where a model takes one.")] = None,
    aspect: Annotated[str | None, typer.Option("--aspect", help="Aspect ratio (image), e.g. 16:9.")] = None,
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Folder for the images (image).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored comparison as JSON.")] = False,
) -> None:
    """Compare models side by side on one prompt: answers, latency, tokens and cost."""
    from easel.cli import _run_checked, err, out

    if task is not None and task not in ("chat", "image"):
        err.print(f"[red]error:[/red] unknown task '{escape(task)}'; pick chat or image")
        raise typer.Exit(2)
    chosen = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed, "aspect_ratio": aspect}
    options = {k: v for k, v in chosen.items() if v is not None}
    answered = _run_checked(run_compare(load_settings(), out, err, prompt=prompt, models=models, task=task,
                                        system=system, options=options, outdir=outdir, as_json=as_json))
    if not answered:
        raise typer.Exit(1)
