"""create_app(settings): the FastAPI application with every router, error handler and service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import Response

from easel import __version__
from easel.api import (
    routes_assets,
    routes_battles,
    routes_chat_completions,
    routes_comparisons,
    routes_conversations,
    routes_images,
    routes_jobs,
    routes_leaderboard,
    routes_models,
    routes_runs,
    routes_settings,
    routes_web,
    routes_workflows,
)
from easel.api.errors import install_error_handlers, json_response
from easel.config import Settings
from easel.studio import open_studio


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_studio(settings) as services:
            app.state.services = services
            yield

    app = FastAPI(title="easel", version=__version__, lifespan=lifespan,
                  description="A self-hosted studio for generative models. /v1 speaks OpenAI's API.")
    install_error_handlers(app)
    app.include_router(routes_chat_completions.router)
    app.include_router(routes_models.router)
    app.include_router(routes_settings.router)
    app.include_router(routes_conversations.router)
    app.include_router(routes_images.router)
    app.include_router(routes_comparisons.router)
    app.include_router(routes_jobs.router)
    app.include_router(routes_battles.router)
    app.include_router(routes_leaderboard.router)
    app.include_router(routes_assets.router)
    app.include_router(routes_workflows.router)
    app.include_router(routes_runs.router)
    app.include_router(routes_web.router)
    routes_web.mount_static(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Response:
        return json_response({"status": "ok", "version": __version__})

    return app
