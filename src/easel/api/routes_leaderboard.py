"""/api/leaderboard: ratings per task from the stored votes, as JSON or a CSV download."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.services.leaderboard import leaderboard_csv
from easel.services.ratings import DEFAULT_ROUNDS, DEFAULT_SEED
from easel.storage.votes import VoteTask

router = APIRouter(prefix="/api", tags=["leaderboard"])


async def _board(services: ServicesDep, owner: str, task: VoteTask, fmt: Literal["json", "csv"], rounds: int,
                 seed: int) -> Response:
    board = await services.leaderboard.compute(owner_id=owner, task=task, rounds=rounds, seed=seed)
    if fmt == "csv":
        filename = f"easel-leaderboard-{task}.csv"
        return Response(leaderboard_csv(board), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return json_response(board)


@router.get("/leaderboard")
async def leaderboard(services: ServicesDep, owner: AccountDep, task: VoteTask = "chat",
                      format: Literal["json", "csv"] = "json",
                      rounds: int = Query(default=DEFAULT_ROUNDS, ge=0, le=2000),
                      seed: int = Query(default=DEFAULT_SEED)) -> Response:
    return await _board(services, owner, task, format, rounds, seed)


@router.get("/leaderboard.csv")
async def leaderboard_csv_file(services: ServicesDep, owner: AccountDep, task: VoteTask = "chat",
                               rounds: int = Query(default=DEFAULT_ROUNDS, ge=0, le=2000),
                               seed: int = Query(default=DEFAULT_SEED)) -> Response:
    return await _board(services, owner, task, "csv", rounds, seed)
