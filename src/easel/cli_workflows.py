"""The workflow side of the CLI: `easel run NAME|FILE --input k=v`, `easel workflows [save [--replace]|show]`.

`easel run` opens a studio in-process (its worker pool runs the job), shows a live table with
a row per step (status, model, items done, time), then writes the run's bundle (Markdown,
images, workflow.yaml, run.json) into the output folder and prints the folder's path.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table

from easel.config import load_settings
from easel.errors import EaselError, InvalidRequest

LOCAL_ACCOUNT = "acct_local"
STATUS_STYLE = {"pending": "dim", "running": "cyan", "succeeded": "green", "failed": "red", "canceled": "yellow",
                "skipped": "dim"}

out = Console()
err = Console(stderr=True)
workflows_app = typer.Typer(help="Workflow templates and your saved workflows.", invoke_without_command=True,
                            no_args_is_help=False)


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return asyncio.run(coro)
    except EaselError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from exc


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise InvalidRequest(f"{option} takes NAME=VALUE, not '{value}'.", param=option)
        pairs[key.strip()] = rest
    return pairs


def steps_table(run: Any) -> Table:
    """A row per step: what it is, where it stands, which model, how many items are done."""
    table = Table(title=f"{run.workflow} · {run.id} · {run.status}", title_justify="left")
    for column in ("", "step", "status", "model", "items", "seconds"):
        table.add_column(column)
    for step in run.steps:
        mark: Any = Spinner("dots") if step.status == "running" else {"succeeded": "✓", "failed": "✗",
                                                                       "canceled": "-"}.get(step.status, "·")
        items = f"{sum(i.status == 'succeeded' for i in step.items)}/{len(step.items)}" if step.items else ""
        seconds = (f"{(step.finished_at - step.started_at).total_seconds():.1f}"
                   if step.started_at and step.finished_at else "")
        style = STATUS_STYLE.get(step.status, "")
        table.add_row(mark, escape(step.title), f"[{style}]{step.status}[/{style}]", escape(step.model or ""),
                      items, seconds)
    return table


async def _run_workflow(target: str, inputs: dict[str, str], models: dict[str, str], outdir: Path | None) -> int:
    from easel.studio import open_studio
    from easel.workflows.bundle import build_bundle

    path = Path(target)
    from_file = target.endswith((".yaml", ".yml")) or path.is_file()
    if from_file and not path.is_file():
        raise InvalidRequest(f"No such file: {target}", param="workflow")
    async with open_studio(load_settings()) as services:
        workflows = services.workflows
        run = await workflows.start_run(owner_id=LOCAL_ACCOUNT, inputs=inputs, models=models,
                                        **({"source": path.read_text(encoding="utf-8")} if from_file
                                           else {"name": target}))
        stream = await workflows.events(owner_id=LOCAL_ACCOUNT, run_id=run.id)
        try:
            with Live(steps_table(run), console=err, refresh_per_second=8) as live:
                async for _name, _value in stream:
                    run = await workflows.get_run(owner_id=LOCAL_ACCOUNT, run_id=run.id)
                    live.update(Group(steps_table(run)))
        except BaseException:
            if not run.done:
                await workflows.cancel_run(owner_id=LOCAL_ACCOUNT, run_id=run.id)
            raise
        finally:
            await stream.aclose()
        run = await workflows.get_run(owner_id=LOCAL_ACCOUNT, run_id=run.id)
        bundle = await build_bundle(run, assets=services.assets)
    folder = outdir or Path(f"{run.workflow}-{run.id}")
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(folder)
    if run.status != "succeeded":
        err.print(f"[red]{run.status}:[/red] {escape(run.error or '')}")
    out.print(str(folder.resolve()))
    return 0 if run.status == "succeeded" else 1


def run(
    workflow: Annotated[str, typer.Argument(help="A template or saved workflow name, or a workflow .yaml file.")],
    inputs: Annotated[list[str], typer.Option("--input", "-i", help="An input: NAME=VALUE (repeat).")] = [],  # noqa: B006
    models: Annotated[list[str], typer.Option("--model", "-m", help="A step's model: STEP=MODEL (repeat).")] = [],  # noqa: B006
    outdir: Annotated[Path | None, typer.Option("-o", "--outdir", help="Folder for the results.")] = None,
) -> None:
    """Run a workflow with a live view of its steps; prints the folder holding the results."""
    code = _run(_run_workflow(workflow, _pairs(inputs, "--input"), _pairs(models, "--model"), outdir))
    raise typer.Exit(code)


async def _list() -> None:
    from easel.studio import open_studio

    async with open_studio(load_settings(), run_workers=False) as services:
        items = await services.workflows.list_workflows(owner_id=LOCAL_ACCOUNT)
    table = Table(title=f"{len(items)} workflows")
    for column in ("name", "title", "kind", "inputs", "steps"):
        table.add_column(column)
    for item in items:
        table.add_row(item["name"], escape(item["title"]), "template" if item["builtin"] else "saved",
                      ", ".join(i["name"] + ("" if i["required"] else "?") for i in item["inputs"]),
                      " → ".join(s["id"] for s in item["steps"]))
    out.print(table)


@workflows_app.callback()
def workflows(ctx: typer.Context) -> None:
    """List the templates and your saved workflows."""
    if ctx.invoked_subcommand is None:
        _run(_list())


@workflows_app.command("save")
def save(file: Annotated[Path, typer.Argument(help="A workflow .yaml file.")],
         replace: Annotated[bool, typer.Option("--replace", help="Replace a saved workflow of the same name.")]
         = False) -> None:
    """Check a workflow file and save it under its name (refused if that name is saved, unless --replace)."""
    from easel.studio import open_studio

    async def go() -> tuple[dict[str, Any], bool]:
        if not file.is_file():
            raise InvalidRequest(f"No such file: {file}", param="file")
        async with open_studio(load_settings(), run_workers=False) as services:
            return await services.workflows.save_workflow(owner_id=LOCAL_ACCOUNT, replace=replace,
                                                          source=file.read_text(encoding="utf-8"))

    saved, created = _run(go())
    verb = "saved" if created else "replaced"
    out.print(f"{verb} [bold]{escape(saved['name'])}[/bold] ({len(saved['steps'])} steps)")


@workflows_app.command("show")
def show(name: Annotated[str, typer.Argument(help="A template or saved workflow name.")]) -> None:
    """Print a workflow's file (to share it, or to start your own from a template)."""
    from easel.studio import open_studio

    async def go() -> dict[str, Any]:
        async with open_studio(load_settings(), run_workers=False) as services:
            return await services.workflows.get_workflow(owner_id=LOCAL_ACCOUNT, name=name)

    print(_run(go())["source"], end="")


def register(app: typer.Typer) -> None:
    """Add `run` and `workflows` to the `easel` command."""
    app.command("run")(run)
    app.add_typer(workflows_app, name="workflows")
