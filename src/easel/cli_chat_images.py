"""Pictures drawn inside `easel chat`: a progress bar while the image job runs, then the saved files' paths.

Paths go to stdout, one a line (so `easel chat "/image a fox" | xargs open` works): the
asset's own file under EASEL_HOME, or a copy in the `-o` folder. Progress goes to stderr.
"""

from __future__ import annotations

import mimetypes
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from easel.storage.assets import AssetStore
from easel.tasks.chat import ImageEvent

LOCAL_ACCOUNT = "acct_local"


class ImageProgressBar:
    """One bar per image job of a turn, on stderr; closed (and left on screen) when the turn ends."""

    def __init__(self, err: Console) -> None:
        self.err = err
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def show(self, event: ImageEvent) -> None:
        if self._bar is None:
            columns = (TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                       TimeElapsedColumn(), TextColumn("{task.fields[message]}"))
            self._bar = Progress(*columns, console=self.err, transient=False)
            self._bar.start()
        task = self._tasks.get(event.job_id)
        if task is None:
            label = escape(event.prompt if len(event.prompt) <= 40 else event.prompt[:39] + "…")
            task = self._tasks[event.job_id] = self._bar.add_task(label, total=1.0, message=event.model)
        message = "done" if event.status == "succeeded" else event.message or event.status
        self._bar.update(task, completed=event.progress, message=escape(message))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ImageProgressBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


async def print_images(assets: AssetStore, extras: dict[str, Any] | None, out: Console,
                       output: Path | None = None) -> list[Path]:
    """Print where each picture of an answer is (copied into `output` first, if given)."""
    written: list[Path] = []
    for image in (extras or {}).get("images") or []:
        path, mime = await assets.open_content(owner_id=LOCAL_ACCOUNT, asset_id=image["asset_id"])
        if output is not None:
            output.mkdir(parents=True, exist_ok=True)
            target = output / f"{image['asset_id']}{mimetypes.guess_extension(mime) or '.png'}"
            shutil.copyfile(path, target)
            path = target
        out.file.write(f"{path}\n")
        written.append(path)
    out.file.flush()
    return written
