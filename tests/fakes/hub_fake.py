"""A fake of the Hugging Face Hub's download routes as a Starlette app, serving local folders.

    app = create_app({"acme/tiny-sd": folder}, gated={"acme/gated": "hf_secret"})
    with serve(app) as url:          # the endpoint: pull(..., endpoint=url)
        ...
    app.state.requests               # every request: method, path, range, auth

Routes, in the Hub's shapes:
- `GET /api/models/{owner}/{name}/revision/{revision}`: {"id", "sha", "siblings": [{"rfilename"}]};
  with `?blobs=true` each sibling also has "size", "blobId" and, for weights (stored in
  LFS on the Hub), "lfs": {"size", "sha256", "pointerSize"}.
- `GET /{owner}/{name}/resolve/{revision}/{path}`: small files answer 200 directly; LFS files
  answer 302 to `/cdn/{sha256}` as the Hub redirects to its CDN. Both honour `Range`.
Errors carry the Hub's `X-Error-Code`: an unknown repo is 404 RepoNotFound, an unknown
revision 404 RevisionNotFound, an unknown file 404 EntryNotFound; a gated repo is 401
GatedRepo without a token and 403 GatedRepo with a wrong one.
`drop_once` names files whose first download stops halfway (the connection drops), to
exercise resuming.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

LFS_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".onnx", ".msgpack", ".h5")


@dataclass(frozen=True, slots=True)
class Blob:
    name: str
    path: Path
    size: int
    sha256: str
    git_sha: str

    @property
    def lfs(self) -> bool:
        return self.name.endswith(LFS_SUFFIXES)


@dataclass(slots=True)
class Repo:
    commit: str
    files: dict[str, Blob]


def _repo(folder: Path, extra: dict[str, bytes], tmp: Path) -> Repo:
    files: dict[str, Blob] = {}
    paths = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    for name, data in extra.items():  # files a real repo has and a pipeline does not need
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        paths[name] = target
    for name, path in paths.items():
        data = path.read_bytes()
        files[name] = Blob(name, path, len(data), hashlib.sha256(data).hexdigest(),
                           hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())
    commit = hashlib.sha1("".join(f"{b.name}:{b.sha256}" for b in files.values()).encode()).hexdigest()
    return Repo(commit, files)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"X-Error-Code": code,
                                                                         "X-Error-Message": message})


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) from `bytes=N-` / `bytes=N-M`, None without a header."""
    if not header or not header.startswith("bytes="):
        return None
    first, _, last = header[len("bytes="):].partition("-")
    start = int(first)
    end = int(last) + 1 if last else size
    return start, min(end, size)


def create_app(repos: dict[str, Path], *, gated: dict[str, str] | None = None,
               extra_files: dict[str, bytes] | None = None, drop_once: Iterable[str] = (),
               scratch: Path | None = None) -> Starlette:
    """Serve each folder in `repos` as a model repo. `gated` maps some of those repo ids to
    the one token that may read them; `extra_files` adds files to every repo (an .onnx, a root checkpoint...)
    and needs `scratch`, a folder to keep them in."""
    gated = dict(gated or {})
    extra = dict(extra_files or {})
    if extra and scratch is None:
        raise ValueError("extra_files needs a scratch folder")
    served = {repo_id: _repo(folder, extra, (scratch or folder) / repo_id.replace("/", "__"))
              for repo_id, folder in repos.items()}
    to_drop = set(drop_once)
    by_sha = {blob.sha256: blob for repo in served.values() for blob in repo.files.values()}
    requests: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        requests.append({"method": request.method, "path": request.url.path, "range": request.headers.get("range"),
                         "auth": request.headers.get("authorization"), "query": str(request.url.query)})

    def check(request: Request) -> tuple[str, Repo] | Response:
        repo_id = f"{request.path_params['owner']}/{request.path_params['name']}"
        repo = served.get(repo_id)
        if repo is None:
            return _error(404, "RepoNotFound", "Repository not found")
        if repo_id in gated:
            auth = request.headers.get("authorization")
            if not auth:
                return _error(401, "GatedRepo", f"Access to model {repo_id} is restricted. You must have access "
                                                "to it and be authenticated to access it. Please log in.")
            if auth != f"Bearer {gated[repo_id]}":
                return _error(403, "GatedRepo", f"Access to model {repo_id} is restricted and you are not in the "
                                                "authorized list.")
        revision = request.path_params["revision"]
        if revision not in ("main", repo.commit):
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return repo_id, repo

    async def model_info(request: Request) -> Response:
        record(request)
        found = check(request)
        if isinstance(found, Response):
            return found
        repo_id, repo = found
        blobs = request.query_params.get("blobs") in ("true", "True", "1")
        siblings = []
        for blob in repo.files.values():
            sibling: dict[str, Any] = {"rfilename": blob.name}
            if blobs:
                sibling.update(size=blob.size, blobId=blob.git_sha)
                if blob.lfs:
                    sibling["lfs"] = {"size": blob.size, "sha256": blob.sha256, "pointerSize": 134}
            siblings.append(sibling)
        return JSONResponse({"_id": repo.commit[:24], "id": repo_id, "modelId": repo_id, "sha": repo.commit,
                             "private": False, "gated": "manual" if repo_id in gated else False,
                             "library_name": "diffusers", "siblings": siblings})

    def send(request: Request, blob: Blob, headers: dict[str, str]) -> Response:
        span = _byte_range(request.headers.get("range"), blob.size)
        if span is not None and span[0] >= blob.size:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{blob.size}"})
        start, end = span or (0, blob.size)
        data = blob.path.read_bytes()[start:end]
        status = 206 if span is not None else 200
        if span is not None:
            headers = {**headers, "Content-Range": f"bytes {start}-{end - 1}/{blob.size}"}
        headers = {**headers, "Accept-Ranges": "bytes", "Content-Length": str(len(data))}
        if blob.name in to_drop:
            to_drop.discard(blob.name)

            async def cut() -> AsyncIterator[bytes]:
                yield data[: len(data) // 2]
                raise ConnectionResetError("fake hub: dropping the connection mid-file")

            return StreamingResponse(cut(), status_code=status, headers=headers,
                                     media_type="application/octet-stream")
        return Response(data, status_code=status, headers=headers, media_type="application/octet-stream")

    async def resolve(request: Request) -> Response:
        record(request)
        found = check(request)
        if isinstance(found, Response):
            return found
        _, repo = found
        blob = repo.files.get(request.path_params["path"])
        if blob is None:
            return _error(404, "EntryNotFound", f"{request.path_params['path']} does not exist on "
                                                f"\"{request.path_params['revision']}\"")
        headers = {"X-Repo-Commit": repo.commit, "ETag": f'"{blob.sha256 if blob.lfs else blob.git_sha}"'}
        if blob.lfs:
            return RedirectResponse(f"/cdn/{blob.sha256}?X-Amz-Signature=fake", status_code=302,
                                    headers={**headers, "X-Linked-Size": str(blob.size),
                                             "X-Linked-ETag": f'"{blob.sha256}"'})
        return send(request, blob, headers)

    async def cdn(request: Request) -> Response:
        record(request)
        blob = by_sha.get(request.path_params["sha"])
        if blob is None:
            return Response("NoSuchKey", status_code=404)
        return send(request, blob, {"ETag": f'"{blob.sha256}"'})

    app = Starlette(routes=[
        Route("/api/models/{owner}/{name}/revision/{revision}", model_info),
        Route("/{owner}/{name}/resolve/{revision}/{path:path}", resolve),
        Route("/cdn/{sha}", cdn),
    ])
    app.state.requests = requests
    return app
