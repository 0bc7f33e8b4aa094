"""`easel battle` and `easel leaderboard`: blind battles and the ratings they feed, in the terminal.

`battle` opens a studio in-process like the other commands, shows the two answers as A and B
(chat answers stream side by side on a terminal; image answers are saved as files), asks
for the vote (or takes `--vote`), then reveals which model was which. `leaderboard` fits the
ratings from the stored votes and prints a table, or the same as JSON or CSV.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from easel.api.deps import Services
from easel.config import load_settings
from easel.errors import EaselError
from easel.services.arena import AnswerDelta, AnswerFinished
from easel.services.leaderboard import leaderboard_csv
from easel.storage.battles import BattleRecord
from easel.studio import open_studio

LOCAL_ACCOUNT = "acct_local"
OUTCOMES = ("a", "b", "tie", "both_bad")
IMAGE_WAIT_SECONDS = 600

out = Console()
err = Console(stderr=True)


def _sides(texts: dict[str, str], states: dict[str, str]) -> Table:
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(*[Panel(Text(texts[side] or "…"), title=f"Answer {side.upper()}", subtitle=states[side],
                         title_align="left") for side in "ab"])
    return grid


async def _run_chat(services: Services, battle: BattleRecord) -> None:
    """Both answers side by side: repainted live on a terminal, printed once when piped."""
    texts = {"a": "", "b": ""}
    states = {"a": "streaming", "b": "streaming"}
    live = Live(_sides(texts, states), console=out, auto_refresh=False) if out.is_terminal else None
    if live:
        live.start()
    try:
        async for event in services.arena.run_chat(battle):
            if isinstance(event, AnswerDelta):
                texts[event.side] += event.text
            elif isinstance(event, AnswerFinished):
                states[event.side] = event.answer.status
            if live:
                live.update(_sides(texts, states), refresh=True)
    finally:
        if live:
            live.stop()
    if not live:
        out.print(_sides(texts, states))


async def _run_images(services: Services, battle: BattleRecord, outdir: Path) -> BattleRecord:
    err.print("[dim]drawing both pictures…[/dim]")
    battle = await services.arena.wait_images(battle, IMAGE_WAIT_SECONDS)
    outdir.mkdir(parents=True, exist_ok=True)
    for side in ("a", "b"):
        answer = battle.answer(side)  # type: ignore[arg-type]
        if answer.status != "complete":
            out.print(f"Answer {side.upper()}: failed ({answer.error_code})")
            continue
        for index in range(len(answer.images)):
            data = await services.arena.image_png(owner_id=LOCAL_ACCOUNT, battle_id=battle.id, side=side,  # type: ignore[arg-type]
                                                  index=index)
            path = outdir / f"{battle.id}-{side}-{index}.png"
            path.write_bytes(data)
            out.print(f"Answer {side.upper()}: {path}")
    return battle


def _ask_vote() -> str:
    while True:
        choice = typer.prompt("Which is better? a, b, tie or both_bad").strip().lower().replace(" ", "_")
        if choice in OUTCOMES:
            return choice
        err.print(f"[red]'{escape(choice)}' is not one of a, b, tie, both_bad[/red]")


async def _battle(prompt: str, task: Literal["chat", "image"], pool: list[str] | None, vote: str | None,
                  outdir: Path) -> None:
    async with open_studio(load_settings(), run_workers=task == "image") as services:
        battle = await services.arena.start(owner_id=LOCAL_ACCOUNT, task=task, prompt=prompt, pool=pool)
        if task == "chat":
            await _run_chat(services, battle)
        else:
            await _run_images(services, battle, outdir)
        battle = await services.arena.get(owner_id=LOCAL_ACCOUNT, battle_id=battle.id)
        if any(battle.answer(side).status != "complete" for side in ("a", "b")):  # type: ignore[arg-type]
            err.print("[yellow]An answer failed; this battle can't be voted.[/yellow]")
        outcome = vote or await asyncio.to_thread(_ask_vote)
        battle = await services.arena.vote(owner_id=LOCAL_ACCOUNT, battle_id=battle.id, outcome=outcome)  # type: ignore[arg-type]
        out.print(f"A was [bold]{escape(battle.model_a)}[/bold], B was [bold]{escape(battle.model_b)}[/bold].")
        if battle.leaked:
            out.print("[yellow]An answer named its own model, so this vote is left out of the leaderboard.[/yellow]")


def battle(
    prompt: Annotated[str, typer.Argument(help="The prompt both models answer.")],
    pool: Annotated[list[str] | None, typer.Option("--pool", help="A model to draw from (repeat); "
                                                   "default: every usable model of the task.")] = None,
    task: Annotated[str, typer.Option(help="chat or image.")] = "chat",
    vote: Annotated[str | None, typer.Option(help="a, b, tie or both_bad (otherwise asked).")] = None,
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Where image answers are saved.")] = Path("."),
) -> None:
    """A blind battle: two models drawn at random answer as A and B; vote, then see which was which."""
    if task not in ("chat", "image"):
        err.print(f"[red]error:[/red] unknown task '{escape(task)}': chat or image")
        raise typer.Exit(2)
    if vote is not None and vote not in OUTCOMES:
        err.print(f"[red]error:[/red] --vote must be one of {', '.join(OUTCOMES)}")
        raise typer.Exit(2)
    _checked(_battle(prompt, task, pool or None, vote, outdir))  # type: ignore[arg-type]


def _checked(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except EaselError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from exc


def _fmt(value: float | None, pattern: str = "{:.0f}") -> str:
    return "-" if value is None else pattern.format(value)


def leaderboard_table(board: dict[str, Any]) -> Table:
    table = Table(title=f"{board['task']} leaderboard: {board['votes']} votes"
                        + (f" ({board['excluded_votes']} left out)" if board["excluded_votes"] else ""))
    table.add_column("#", justify="right")
    table.add_column("model", no_wrap=True)
    for name in ("rating", "95% CI", "votes", "win rate"):
        table.add_column(name, justify="right")
    for row in board["models"]:
        table.add_row(str(row["rank"]), escape(row["model"]), _fmt(row["rating"]),
                      f"{_fmt(row['ci_low'])} – {_fmt(row['ci_high'])}", str(row["votes"]),
                      _fmt(row["win_rate"] * 100, "{:.0f}%"))
    return table


async def _leaderboard(task: Literal["chat", "image"], rounds: int) -> dict[str, Any]:
    async with open_studio(load_settings(), run_workers=False) as services:
        return await services.leaderboard.compute(owner_id=LOCAL_ACCOUNT, task=task, rounds=rounds)


def leaderboard(
    task: Annotated[str, typer.Option(help="chat or image.")] = "chat",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    rounds: Annotated[int, typer.Option(help="Bootstrap rounds for the intervals.")] = 200,
) -> None:
    """Ratings from your votes: Bradley-Terry scores, 95% intervals, votes and win rates."""
    if task not in ("chat", "image"):
        err.print(f"[red]error:[/red] unknown task '{escape(task)}': chat or image")
        raise typer.Exit(2)
    board = _checked(_leaderboard(task, max(0, rounds)))  # type: ignore[arg-type]
    if as_json:
        sys.stdout.write(json.dumps(board, indent=2) + "\n")
    elif as_csv:
        sys.stdout.write(leaderboard_csv(board))
    else:
        out.print(leaderboard_table(board))
        unrated = [row["model"] for row in board["unrated"]]
        if unrated:
            shown = ", ".join(unrated[:8]) + (f" and {len(unrated) - 8} more" if len(unrated) > 8 else "")
            out.print(f"[dim]unrated (no votes yet): {escape(shown)}[/dim]")
