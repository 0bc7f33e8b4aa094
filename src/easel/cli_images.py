"""The image side of the CLI: `easel image`, `easel upscale`, `easel jobs`.

Each command opens a studio in-process (its worker pool runs the job), follows the job's
events with a progress bar, and writes the results where the user asked.
"""

from __future__ import annotations

import mimetypes
import shutil
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from easel.api.deps import Services
from easel.config import Settings
from easel.errors import InvalidRequest, UpstreamError
from easel.jobs import JobProgress, JobRecord, JobSnapshot, JobSucceeded
from easel.studio import open_studio
from easel.tasks.image import ImageRequest, UpscaleRequest

LOCAL_ACCOUNT = "acct_local"


async def _follow(services: Services, job: JobRecord, err: Console, label: str) -> JobRecord:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[message]}"))
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task(label, total=1.0, message="queued")
        stream = await services.jobs.events(owner_id=LOCAL_ACCOUNT, job_id=job.id)
        try:
            async for event in stream:
                if isinstance(event, JobSnapshot):
                    bar.update(task, completed=event.job.progress, message=event.job.progress_message or "")
                elif isinstance(event, JobProgress):
                    bar.update(task, completed=event.progress, message=event.message or "")
                elif isinstance(event, JobSucceeded):
                    bar.update(task, completed=1.0, message="done")
        except BaseException:
            await services.jobs.cancel(owner_id=LOCAL_ACCOUNT, job_id=job.id)
            raise
        finally:
            await stream.aclose()
    final = await services.jobs.get(owner_id=LOCAL_ACCOUNT, job_id=job.id)
    if final.status != "succeeded":
        raise UpstreamError(final.error or f"the job ended {final.status}", provider=final.model.split(":", 1)[0],
                            code=final.error_code or "job_failed")
    return final


async def _export(services: Services, job: JobRecord, destination: Path, single_file: bool) -> list[Path]:
    written: list[Path] = []
    for index, asset_id in enumerate((job.outputs or {}).get("assets", [])):
        path, mime = await services.assets.open_content(owner_id=LOCAL_ACCOUNT, asset_id=asset_id)
        if single_file:
            target = destination
        else:
            destination.mkdir(parents=True, exist_ok=True)
            target = destination / f"{job.id}-{index + 1}{mimetypes.guess_extension(mime) or '.png'}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(target)
    return written


async def run_image(settings: Settings, out: Console, err: Console, *, request_fields: dict[str, object],
                    outdir: Path) -> None:
    async with open_studio(settings) as services:
        fields = {**request_fields, "model": request_fields.get("model") or settings.default_image_model}
        request = ImageRequest.model_validate(fields)
        job, _ = await services.images.submit_image(owner_id=LOCAL_ACCOUNT, request=request)
        final = await _follow(services, job, err, f"{job.model} ×{request.n}")
        for path in await _export(services, final, outdir, single_file=False):
            out.print(str(path))


async def run_upscale(settings: Settings, out: Console, err: Console, *, source: Path, scale: int,
                      model: str | None, output: Path | None) -> None:
    if not source.is_file():
        raise InvalidRequest(f"No such file: {source}", param="file")
    async with open_studio(settings) as services:
        asset = await services.assets.save_upload(owner_id=LOCAL_ACCOUNT, data=source.read_bytes(),
                                                  filename=source.name)
        request = UpscaleRequest(model=model or settings.default_upscale_model, asset_id=asset.id,
                                 scale=scale)  # type: ignore[arg-type]
        job, _ = await services.images.submit_upscale(owner_id=LOCAL_ACCOUNT, request=request)
        final = await _follow(services, job, err, f"{job.model} x{scale}")
        target = output or source.with_name(f"{source.stem}-x{scale}.png")
        for path in await _export(services, final, target, single_file=True):
            out.print(str(path))


async def list_jobs(settings: Settings, out: Console, *, limit: int, status: str | None) -> None:
    async with open_studio(settings, run_workers=False) as services:
        items, total = await services.jobs.list(owner_id=LOCAL_ACCOUNT, status=status, limit=limit)  # type: ignore[arg-type]
    table = Table(title=f"{len(items)} of {total} jobs")
    table.add_column("id", no_wrap=True)
    for column in ("task", "model", "status", "progress", "created", "error"):
        table.add_column(column)
    for job in items:
        table.add_row(job.id, job.task, job.model, job.status, f"{job.progress:.0%}",
                      job.created_at.strftime("%Y-%m-%d %H:%M"), (job.error or "")[:60])
    out.print(table)
