"""`easel pull REPO`: fetch a diffusers pipeline into the models folder with a Rich progress bar.

The command itself is registered in `cli.py`; this module does the work so the CLI stays
thin: pick the folder (`$EASEL_HOME/models/diffusers/<name>`), the endpoint (HF_ENDPOINT)
and the token ([keys] huggingface in the config file, else HF_TOKEN), run `hub.pull`, and
say which model id to use afterwards.
"""

from __future__ import annotations

import os

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from easel.config import Settings
from easel.errors import InvalidRequest
from easel.hub import DEFAULT_ENDPOINT, ENDPOINT_ENV, SOURCE, TOKEN_ENV, PullResult, default_name, pull
from easel.providers.local_diffusers import ID_PREFIX, models_dir


def run_pull_cli(repo_id: str, settings: Settings, console: Console, *, name: str | None = None,
                 revision: str = "main", endpoint: str | None = None, token: str | None = None,
                 all_files: bool = False) -> PullResult:
    """Pull `repo_id` (a Hub repo id or a local folder) as `local:diffusers/<name>`.
    Raises EaselError subclasses (NotFound, AuthenticationFailed, UpstreamError) for the CLI to print."""
    name = name or default_name(repo_id)
    if name != default_name(name):
        raise InvalidRequest(f"'{name}' is not a usable model name: use lowercase letters, digits, '.', '_' and '-'.",
                             param="name")
    dest = models_dir(settings) / name
    endpoint = endpoint or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT
    token = token or settings.credential(SOURCE, TOKEN_ENV)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(escape(repo_id), total=None)

        def report(done: int, total: int, current: str) -> None:
            bar.update(task, completed=done, total=total or None,
                       description=f"{escape(repo_id)} [dim]{escape(current)}[/dim]")

        result = pull(repo_id, dest, endpoint=endpoint, revision=revision, token=token, progress=report,
                      all_files=all_files)
        bar.update(task, description=escape(repo_id))
    fetched = f"{result.fetched_bytes / 1e6:.1f} MB fetched" if result.fetched_bytes else "nothing to fetch"
    console.print(f"{len(result.files)} files in {escape(str(dest))} ({fetched}); "
                  f"use it as [bold]{ID_PREFIX}{name}[/bold]")
    return result
