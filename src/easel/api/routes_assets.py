"""/api/assets: the gallery. List (paged, filtered), read, download, thumbnail, upload, delete.

A document's content is sent as an attachment named by its row (a workflow's `article-<run>.md`);
browsers show no Markdown. An image is sent inline and unnamed, so the pages' own download names
(prompt slug and id) apply. A document has no thumbnail: asking for one is a 404 `no_thumbnail`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, File, Query, UploadFile
from starlette.responses import FileResponse, Response

from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.errors import InvalidRequest

router = APIRouter(prefix="/api/assets", tags=["assets"])

UPLOAD_READ_LIMIT = 64 * 1024 * 1024  # never read more than this from a request; the store has its own limit


@router.get("")
async def list_assets(services: ServicesDep, owner: AccountDep, kind: Literal["image", "video", "document"] | None = None,
                      model: str | None = None, q: str | None = None, job_id: str | None = None,
                      limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> Response:
    items, total = await services.assets.list_assets(owner_id=owner, kind=kind, model=model, search=q, job_id=job_id,
                                              limit=limit, offset=offset)
    return json_response({"data": [a.model_dump(mode="json") for a in items], "count": total, "limit": limit,
                          "offset": offset})


@router.post("", status_code=201)
async def upload_asset(services: ServicesDep, owner: AccountDep, file: UploadFile = File(...)) -> Response:
    data = await file.read(UPLOAD_READ_LIMIT + 1)
    if len(data) > UPLOAD_READ_LIMIT:
        raise InvalidRequest("The upload is too large.", param="file", code="file_too_large")
    record = await services.assets.save_upload(owner_id=owner, data=data, filename=file.filename)
    return json_response(record.model_dump(mode="json"), 201)


@router.get("/{asset_id}")
async def get_asset(asset_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    return json_response((await services.assets.get(owner_id=owner, asset_id=asset_id)).model_dump(mode="json"))


@router.get("/{asset_id}/content")
async def asset_content(asset_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    record = await services.assets.get(owner_id=owner, asset_id=asset_id)
    path, mime = await services.assets.open_content(owner_id=owner, asset_id=asset_id)
    named = record.filename if record.kind == "document" else None
    return FileResponse(path, media_type=mime, filename=named, content_disposition_type="attachment",
                        headers={"Cache-Control": "private, max-age=31536000, immutable"})


@router.get("/{asset_id}/thumbnail")
async def asset_thumbnail(asset_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    path, mime = await services.assets.open_thumbnail(owner_id=owner, asset_id=asset_id)
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "private, max-age=31536000, immutable"})


@router.delete("/{asset_id}", status_code=204)
async def delete_asset(asset_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    await services.assets.delete(owner_id=owner, asset_id=asset_id)
    return Response(status_code=204)
