"""The studio UI: GET / answers the single page; /static serves its files from the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)


def static_dir() -> Path:
    return Path(str(resources.files("easel.web").joinpath("static")))


@router.get("/")
async def index() -> Response:
    return FileResponse(static_dir() / "index.html", media_type="text/html",
                        headers={"Cache-Control": "no-cache"})


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
