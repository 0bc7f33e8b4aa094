"""/api/battles: start a blind battle (JSON or SSE), read it, list them, vote, and the pictures
of image battles.

A streamed chat battle sends `start` (the battle, names hidden), `text` deltas tagged with
their side (`{"side": "a", "text": ...}`), `answer` when a side ends (complete or failed),
then `done` with the battle. Image battles answer at once with their jobs running; read the
battle until both answers are complete, or stream it to be told.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from easel.adapters.sse import format_sse
from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.services.arena import AnswerDelta, AnswerFinished, ArenaService, battle_public
from easel.storage.battles import BattleRecord, Side
from easel.storage.votes import VoteOutcome, VoteTask

router = APIRouter(prefix="/api/battles", tags=["battles"])

IMAGE_WAIT_SECONDS = 600


class BattleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=32000)
    task: VoteTask = "chat"
    pool: list[str] | None = Field(default=None, max_length=100,
                                   description="Model ids to draw from; every usable model of the task if omitted.")
    stream: bool = False


class VoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: VoteOutcome


def _frame(event: str, body: object) -> bytes:
    return format_sse(orjson.dumps(body).decode(), event)


def _answer_body(side: Side, battle: BattleRecord, event: AnswerFinished | None = None) -> dict[str, object]:
    answer = event.answer if event else battle.answer(side)
    return {"side": side, "status": answer.status, "error_code": answer.error_code}


async def _stream(arena: ArenaService, battle: BattleRecord, base_url: str) -> AsyncIterator[bytes]:
    yield _frame("start", battle_public(battle, base_url))
    if battle.task == "chat":
        async for event in arena.run_chat(battle):
            if isinstance(event, AnswerDelta):
                yield _frame("text", {"side": event.side, "text": event.text})
            else:
                yield _frame("answer", _answer_body(event.side, battle, event))
        battle = await arena.get(owner_id=battle.owner_id, battle_id=battle.id)
    else:
        battle = await arena.wait_images(battle, IMAGE_WAIT_SECONDS)
        for side in ("a", "b"):
            yield _frame("answer", _answer_body(side, battle))  # type: ignore[arg-type]
    yield _frame("done", battle_public(battle, base_url))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post("", status_code=201)
async def create_battle(body: BattleCreate, request: Request, services: ServicesDep, owner: AccountDep) -> Response:
    arena = services.arena
    battle = await arena.start(owner_id=owner, task=body.task, prompt=body.prompt, pool=body.pool)
    if body.stream:
        return StreamingResponse(_stream(arena, battle, _base(request)), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    if battle.task == "image":
        return json_response(battle_public(battle, _base(request)), 202)
    async for _ in arena.run_chat(battle):
        pass
    battle = await arena.get(owner_id=owner, battle_id=battle.id)
    return json_response(battle_public(battle, _base(request)), 201)


@router.get("")
async def list_battles(request: Request, services: ServicesDep, owner: AccountDep,
                       task: VoteTask | None = None, limit: int = Query(default=50, ge=1, le=200),
                       offset: int = Query(default=0, ge=0)) -> Response:
    battles = await services.arena.list(owner_id=owner, task=task, limit=limit, offset=offset)
    return json_response({"object": "list", "data": [battle_public(b, _base(request)) for b in battles]})


@router.get("/{battle_id}")
async def get_battle(battle_id: str, request: Request, services: ServicesDep, owner: AccountDep) -> Response:
    battle = await services.arena.get(owner_id=owner, battle_id=battle_id)
    return json_response(battle_public(battle, _base(request)))


@router.post("/{battle_id}/vote")
async def vote(battle_id: str, body: VoteCreate, request: Request, services: ServicesDep,
               owner: AccountDep) -> Response:
    battle = await services.arena.vote(owner_id=owner, battle_id=battle_id, outcome=body.outcome)
    return json_response(battle_public(battle, _base(request)))


@router.get("/{battle_id}/answers/{side}/images/{index}")
async def answer_image(battle_id: str, side: Literal["a", "b"], index: int, services: ServicesDep,
                       owner: AccountDep) -> Response:
    data = await services.arena.image_png(owner_id=owner, battle_id=battle_id, side=side, index=index)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
