"""Pull a model repository from the Hugging Face Hub (or copy one from a folder) into a folder.

    pull("stabilityai/sd-turbo", home / "models" / "diffusers" / "sd-turbo", progress=cb)

Speaks the Hub's two public routes with httpx, so any endpoint that mirrors them works
(HF_ENDPOINT, a local fake in tests):
- `GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true`: the commit and the
  files (`siblings[].rfilename`, with size and LFS sha256);
- `GET {endpoint}/{repo}/resolve/{commit}/{file}`: one file, often a redirect to a CDN
  (httpx drops the token when the redirect leaves the Hub's origin).

Each file streams into `<file>.part` and is renamed once its size (and LFS sha256) check
out, so an interrupted pull resumes where it stopped (a Range request) and a folder never
holds a half-written file under its real name. model_index.json comes last, so the
folder only looks like a pipeline once everything else is there. `select_files` skips
what a diffusers pipeline does not load (ONNX/Flax/TF weights, .bin next to
.safetensors, fp16 variants next to full weights, single-file checkpoints at the root).
`pull` blocks; a job runs it in a thread, and a progress callback that raises stops it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import httpx

from easel.errors import AuthenticationFailed, InvalidRequest, NotFound, UpstreamError, UpstreamUnavailable

DEFAULT_ENDPOINT = "https://huggingface.co"
TOKEN_ENV = "HF_TOKEN"
ENDPOINT_ENV = "HF_ENDPOINT"
SOURCE = "huggingface"
SOURCE_FILE = ".easel-source.json"
CHUNK = 1 << 20
ATTEMPTS = 3  # per file; a retry resumes from the .part file
INDEX = "model_index.json"
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
WEIGHTS = (".safetensors", ".bin", ".ckpt", ".pt", ".pth")
# Formats a PyTorch diffusers pipeline never loads.
SKIPPED = ("*.onnx", "*.onnx_data", "*.msgpack", "*.h5", "*.tflite", "*.ot", "*.mlmodel", "*.gguf",
           "onnx/*", "*/onnx/*", "flax_model*", "*/flax_model*", "tf_model*", "*/tf_model*",
           "*.mlpackage/*", "coreml/*", "*/coreml/*")
_VARIANT = re.compile(r"\.(fp16|bf16|fp8|fp32|non_ema|ema)([.-]|$)")

#: (bytes done, bytes in all (0 when unknown), the file being fetched); may raise to stop
PullProgress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    name: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class PullResult:
    dest: Path
    files: list[str]  # everything the folder now holds from the source
    fetched_bytes: int  # bytes transferred by this pull
    skipped: list[str]  # already complete before this pull
    commit: str | None  # the revision's commit (None when copied from a folder)


def _weight_folder(name: str) -> str:
    return str(PurePosixPath(name).parent)


def select_files(names: Iterable[str], allow_patterns: Sequence[str] | None = None,
                 ignore_patterns: Sequence[str] | None = None, *, all_files: bool = False) -> list[str]:
    """The files worth fetching for a PyTorch diffusers pipeline (or all of them with `all_files`);
    `allow_patterns` keeps only matches, `ignore_patterns` drops matches (fnmatch, on the path)."""
    names = sorted(set(names))
    if allow_patterns:
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in allow_patterns)]
    if ignore_patterns:
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in ignore_patterns)]
    if all_files:
        return names
    names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in SKIPPED)]
    pipeline = INDEX in names
    folders: dict[str, list[str]] = {}
    for n in names:
        if n.endswith(WEIGHTS) or ".safetensors.index" in n or ".bin.index" in n:
            folders.setdefault(_weight_folder(n), []).append(n)
    dropped: set[str] = set()
    for folder, files in folders.items():
        if pipeline and folder == ".":
            dropped.update(files)  # single-file checkpoints beside a diffusers layout
            continue
        safetensors = [f for f in files if ".safetensors" in f]
        if safetensors:
            dropped.update(f for f in files if ".safetensors" not in f)
            files = safetensors
        plain = [f for f in files if not _VARIANT.search(PurePosixPath(f).name)]
        if plain:
            dropped.update(f for f in files if f not in plain)
    return [n for n in names if n not in dropped]


def _safe_target(dest: Path, name: str) -> Path:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise UpstreamError(f"refusing the file name {name!r}", provider=SOURCE)
    return dest.joinpath(*path.parts)


def _ordered(names: list[str]) -> list[str]:
    """model_index.json last: the folder becomes a pipeline only when everything else is in."""
    return sorted(names, key=lambda n: (n == INDEX, n))


def _error_for(response: httpx.Response, repo_id: str, revision: str, endpoint: str, token: str | None,
               file: str | None = None) -> Exception:
    code = response.headers.get("X-Error-Code")
    status = response.status_code
    where = f"'{repo_id}' on {endpoint}"
    if code == "GatedRepo":
        return AuthenticationFailed(
            f"{where} is gated: accept its terms at {endpoint}/{repo_id} and set {TOKEN_ENV} to a token of "
            "that account" + (" (the token given has no access)" if token else "") + ".", code="gated_repo")
    if code == "RevisionNotFound":
        return NotFound(f"{where} has no revision '{revision}'.", code="revision_not_found")
    if code == "EntryNotFound" or (file is not None and status == 404):
        return NotFound(f"{where} has no file '{file}' at '{revision}'.", code="file_not_found")
    if code == "RepoNotFound" or status == 404:
        hint = "" if token else f" (if it is private, set {TOKEN_ENV})"
        return NotFound(f"No model {where}{hint}.", code="repo_not_found")
    if status in (401, 403):
        if token:
            return AuthenticationFailed(f"{endpoint} refused the token in {TOKEN_ENV} for '{repo_id}'.")
        return AuthenticationFailed(f"{where} needs a Hugging Face token: set {TOKEN_ENV}.")
    if status == 429 or status >= 500:
        return UpstreamUnavailable(f"{endpoint} answered {status}; try again later.", provider=SOURCE,
                                   upstream_status=status)
    return UpstreamError(f"{endpoint} answered {status} for {response.request.url}", provider=SOURCE,
                         upstream_status=status)


def list_files(client: httpx.Client, endpoint: str, repo_id: str, revision: str,
               token: str | None = None) -> tuple[list[RemoteFile], str | None]:
    """The files of a repo at a revision (with sizes and LFS hashes) and the revision's commit."""
    url = f"{endpoint}/api/models/{repo_id}/revision/{quote(revision, safe='')}"
    response = client.get(url, params={"blobs": "true"}, headers=_auth(token))
    if response.status_code != 200:
        raise _error_for(response, repo_id, revision, endpoint, token)
    info = response.json()
    files = []
    for sibling in info.get("siblings") or []:
        lfs = sibling.get("lfs") or {}
        size = lfs.get("size", sibling.get("size"))
        files.append(RemoteFile(name=str(sibling["rfilename"]), size=int(size) if size is not None else None,
                                sha256=lfs.get("sha256")))
    return files, info.get("sha")


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class _Meter:
    """Bytes done across the whole pull, reported to the caller's callback about once a MiB."""

    def __init__(self, total: int, progress: PullProgress | None) -> None:
        self.done = 0
        self.fetched = 0
        self.total = total
        self.progress = progress
        self._reported = -CHUNK

    def add(self, count: int, name: str, *, fetched: bool = True, flush: bool = True) -> None:
        self.done += count
        if fetched:
            self.fetched += count
        if self.progress is not None and (flush or abs(self.done - self._reported) >= CHUNK):
            self._reported = self.done
            self.progress(self.done, self.total, name)


def _hash_file(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest


def _fetch(client: httpx.Client, url: str, target: Path, remote: RemoteFile, token: str | None,
           meter: _Meter, error_for: Callable[[httpx.Response], Exception]) -> None:
    """One file into `<target>.part` (resuming what is there), checked, then renamed."""
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if remote.size is not None and have > remote.size:
        part.unlink()
        have = 0
    digest = _hash_file(part) if remote.sha256 and have else hashlib.sha256()
    meter.add(have, remote.name, fetched=False)
    headers = {**_auth(token), **({"Range": f"bytes={have}-"} if have else {})}
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 416 and remote.size == have:
            pass  # the part is already whole
        elif response.status_code not in (200, 206):
            raise error_for(response)
        else:
            if response.status_code == 200 and have:  # the server ignored the Range: start over
                meter.add(-have, remote.name, fetched=False)
                have, digest = 0, hashlib.sha256()
            with part.open("ab" if have else "wb") as fh:
                # blocks as they arrive (a fixed chunk size would hold back the tail a dropped
                # connection leaves, which the .part file keeps for the next attempt)
                for block in response.iter_bytes():
                    fh.write(block)
                    digest.update(block)
                    meter.add(len(block), remote.name, flush=False)
            meter.add(0, remote.name)
    size = part.stat().st_size
    expected = remote.size if remote.size is not None else None
    if expected is not None and size != expected:
        part.unlink()
        raise UpstreamError(f"{remote.name}: got {size} bytes, expected {expected}", provider=SOURCE)
    if remote.sha256 and digest.hexdigest() != remote.sha256:
        part.unlink()
        raise UpstreamError(f"{remote.name}: sha256 mismatch, the download is corrupt", provider=SOURCE)
    os.replace(part, target)


def _write_source(dest: Path, **facts: object) -> None:
    (dest / SOURCE_FILE).write_text(json.dumps({**facts, "pulled_at": time.time()}, indent=2))


def pull(repo_id: str, dest: Path, *, endpoint: str = DEFAULT_ENDPOINT, revision: str = "main",
         token: str | None = None, progress: PullProgress | None = None,
         allow_patterns: Sequence[str] | None = None, ignore_patterns: Sequence[str] | None = None,
         all_files: bool = False, timeout: float = 60.0) -> PullResult:
    """Fetch `repo_id` at `revision` into `dest` (created if needed); a folder path as
    `repo_id` is copied instead. Files already complete in `dest` are kept. Blocking."""
    source = Path(repo_id).expanduser()
    if source.is_dir():
        return copy_folder(source, dest, progress=progress, allow_patterns=allow_patterns,
                           ignore_patterns=ignore_patterns, all_files=all_files)
    if not REPO_ID.match(repo_id):
        raise InvalidRequest(f"'{repo_id}' is neither a Hub repo id (owner/name) nor a folder.", param="repo_id")
    endpoint = endpoint.rstrip("/")
    limits = httpx.Timeout(timeout, connect=min(timeout, 15.0))
    headers = {"User-Agent": "easel-pull/1 (+httpx)"}
    try:
        with httpx.Client(timeout=limits, follow_redirects=True, headers=headers) as client:
            remote, commit = list_files(client, endpoint, repo_id, revision, token)
            by_name = {f.name: f for f in remote}
            chosen = _ordered(select_files(by_name, allow_patterns, ignore_patterns, all_files=all_files))
            meter = _Meter(sum(by_name[n].size or 0 for n in chosen), progress)
            dest.mkdir(parents=True, exist_ok=True)
            skipped: list[str] = []
            ref = quote(commit or revision, safe="")
            for name in chosen:
                file, target = by_name[name], _safe_target(dest, name)
                if target.is_file() and file.size is not None and target.stat().st_size == file.size:
                    skipped.append(name)
                    meter.add(file.size, name, fetched=False)
                    continue
                url = f"{endpoint}/{repo_id}/resolve/{ref}/{quote(name)}"

                def error_for(response: httpx.Response, name: str = name) -> Exception:
                    return _error_for(response, repo_id, revision, endpoint, token, file=name)

                for attempt in range(1, ATTEMPTS + 1):
                    done_before = meter.done
                    try:
                        _fetch(client, url, target, file, token, meter, error_for)
                        break
                    except httpx.TransportError:
                        meter.add(-(meter.done - done_before), name, fetched=False)  # the retry recounts
                        if attempt == ATTEMPTS:
                            raise
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"could not download from {endpoint}: {exc}", provider=SOURCE) from exc
    _write_source(dest, repo_id=repo_id, revision=revision, commit=commit, endpoint=endpoint)
    return PullResult(dest=dest, files=chosen, fetched_bytes=meter.fetched, skipped=skipped, commit=commit)


def copy_folder(source: Path, dest: Path, *, progress: PullProgress | None = None,
                allow_patterns: Sequence[str] | None = None, ignore_patterns: Sequence[str] | None = None,
                all_files: bool = False) -> PullResult:
    """Copy a local model folder with the same selection, checks and progress as a download."""
    source = source.resolve()
    names = [p.relative_to(source).as_posix() for p in source.rglob("*")
             if p.is_file() and not p.name.endswith(".part") and p.name != SOURCE_FILE]
    chosen = _ordered(select_files(names, allow_patterns, ignore_patterns, all_files=all_files))
    sizes = {n: (source / n).stat().st_size for n in chosen}
    meter = _Meter(sum(sizes.values()), progress)
    dest.mkdir(parents=True, exist_ok=True)
    skipped: list[str] = []
    for name in chosen:
        target = _safe_target(dest, name)
        if target.is_file() and target.stat().st_size == sizes[name]:
            skipped.append(name)
            meter.add(sizes[name], name, fetched=False)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        with (source / name).open("rb") as src, part.open("wb") as out:
            while block := src.read(CHUNK):
                out.write(block)
                meter.add(len(block), name, flush=False)
        meter.add(0, name)
        shutil.copystat(source / name, part)
        os.replace(part, target)
    _write_source(dest, repo_id=str(source), revision=None, commit=None, endpoint=None)
    return PullResult(dest=dest, files=chosen, fetched_bytes=meter.fetched, skipped=skipped, commit=None)


def default_name(repo_id: str) -> str:
    """The folder (and model) name for a repo: 'stabilityai/sd-turbo' -> 'sd-turbo'."""
    last = PurePosixPath(repo_id.rstrip("/")).name or "model"
    return re.sub(r"[^a-z0-9._-]+", "-", last.lower()).strip("-.") or "model"
