"""The loaded-model manager for llama.cpp: load on first use, keep warm, unload when idle.

One `xllamacpp.Server` per GGUF, built in a worker thread the first time a request needs
it (concurrent first requests share one load), with `n_parallel` slots of the model's
full context window each. Requests past `n_parallel` queue on a semaphore. A generation
runs in a worker thread; its chunk callback hands OpenAI-shaped chunks to the event loop
and returns True once the consumer has gone, which stops llama.cpp at the next token.
A reaper task unloads models idle for `idle_unload_seconds` (never while a request runs).

This module speaks llama.cpp chunks only; `local_llama` turns them into ChatEvents.
`xllamacpp` is imported inside functions, never at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

# Caps on the KV cache: each slot gets the model's whole window, up to these many tokens.
MAX_SLOT_CONTEXT = 32768
MAX_TOTAL_CONTEXT = 65536
# llama.cpp keeps recent prompts in host RAM for reuse; its default bound is 8 GiB.
PROMPT_CACHE_MIB = 512

_END = object()  # end of one generation's chunk stream


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """How one GGUF is loaded. Equal configs share one loaded server."""

    path: Path
    slot_context: int
    n_parallel: int
    n_threads: int
    chat_template: str | None = None

    @property
    def n_ctx(self) -> int:
        return self.slot_context * self.n_parallel



def default_threads() -> int:
    """All cores but one, so the event loop serving the stream keeps a core (llama.cpp's
    threads spin; oversubscribing a small machine makes them crawl)."""
    return max(1, (os.cpu_count() or 1) - 1)


def runtime_config(
    path: Path,
    *,
    context_window: int,
    n_parallel: int,
    threads: int = 0,
    chat_template: str | None = None,
) -> RuntimeConfig:
    """Per-slot context = the model's window, capped so the KV cache stays laptop-sized."""
    n_parallel = max(1, n_parallel)
    slot = max(256, min(context_window, MAX_SLOT_CONTEXT, MAX_TOTAL_CONTEXT // n_parallel))
    return RuntimeConfig(
        path=path,
        slot_context=slot,
        n_parallel=n_parallel,
        n_threads=threads if threads > 0 else default_threads(),
        chat_template=chat_template,
    )


class LoadError(RuntimeError):
    """llama.cpp could not load a GGUF (corrupt file, unsupported architecture, no memory)."""


def build_server(config: RuntimeConfig) -> Any:
    """Load the GGUF into a new `xllamacpp.Server` (blocking; call it from a worker thread)."""
    import secrets

    import xllamacpp  # type: ignore[import-untyped]

    params = xllamacpp.CommonParams()
    params.model.path = str(config.path)
    params.n_ctx = config.n_ctx
    params.n_parallel = config.n_parallel
    params.cpuparams.n_threads = config.n_threads
    params.cpuparams_batch.n_threads = config.n_threads
    params.warmup = False
    params.verbosity = -1  # llama.cpp logs every slot event to stderr otherwise
    params.cache_ram_mib = PROMPT_CACHE_MIB
    # The server also listens on a random 127.0.0.1 port that easel never uses: lock it.
    params.api_keys = [secrets.token_urlsafe(24)]
    if config.chat_template:
        params.chat_template = config.chat_template
    try:
        return xllamacpp.Server(params)
    except RuntimeError as exc:  # the binding says only "Failed to init server"
        raise LoadError(f"llama.cpp could not load {config.path}: {exc}") from exc


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True, slots=True)
class LoadedInfo:
    """A loaded model as a settings page shows it."""

    name: str
    path: Path
    n_ctx: int
    slot_context: int
    n_parallel: int
    n_threads: int
    active_requests: int
    load_seconds: float
    idle_seconds: float
    memory_bytes: int | None  # process RSS growth while loading (approximate; Linux only)


class LoadedModel:
    """One loaded server, its slot semaphore and its activity."""

    def __init__(self, name: str, config: RuntimeConfig, server: Any, load_seconds: float,
                 memory_bytes: int | None) -> None:
        self.name = name
        self.config = config
        self.server: Any = server
        self.load_seconds = load_seconds
        self.memory_bytes = memory_bytes
        self.semaphore = asyncio.Semaphore(config.n_parallel)
        self.active = 0  # requests holding or waiting for a slot
        self.last_used = time.monotonic()
        self.detached = False  # unloaded from the table; freed when the last request ends

    def info(self) -> LoadedInfo:
        return LoadedInfo(
            name=self.name, path=self.config.path, n_ctx=self.config.n_ctx,
            slot_context=self.config.slot_context, n_parallel=self.config.n_parallel,
            n_threads=self.config.n_threads, active_requests=self.active,
            load_seconds=self.load_seconds, idle_seconds=0.0 if self.active else time.monotonic() - self.last_used,
            memory_bytes=self.memory_bytes,
        )

    def close(self) -> None:
        """Drop the server: its destructor stops llama.cpp's loop and frees weights and KV cache."""
        self.server = None


def _generate(server: Any, body: dict[str, Any], emit: Callable[[object], None],
              canceled: threading.Event) -> None:
    """Worker thread: one streamed generation; every chunk, error and the end go to `emit`."""

    def on_chunk(chunk: dict[str, Any]) -> bool:
        if not canceled.is_set():
            emit(chunk)
        return canceled.is_set()  # True asks llama.cpp to stop generating

    try:
        result = server.handle_chat_completions(body, on_chunk)
        if isinstance(result, dict) and "error" in result:
            emit(result)
    except Exception as exc:  # noqa: BLE001  a crash inside the binding must reach the caller, not the thread
        emit({"error": {"code": 500, "type": "server_error", "message": f"llama.cpp failed: {exc}"}})
    finally:
        emit(_END)


class ModelManager:
    """Loaded llama.cpp servers by model name, shared by every request of one provider."""

    def __init__(self, idle_unload_seconds: float) -> None:
        self.idle_unload_seconds = idle_unload_seconds  # <= 0: keep loaded until unload()
        self._models: dict[str, LoadedModel] = {}
        self._loading: dict[str, tuple[RuntimeConfig, asyncio.Task[LoadedModel]]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._reaper: asyncio.Task[None] | None = None

    # -- plumbing ---------------------------------------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="easel-llama")
        return self._executor

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        """asyncio primitives belong to one loop; rebuild them when a new loop uses the manager."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._loading.clear()
            self._wake = asyncio.Event()
            self._reaper = None
            for model in self._models.values():
                model.semaphore = asyncio.Semaphore(model.config.n_parallel)
                model.active = 0  # an old loop's generations were cancelled with it
        return loop

    # -- loading ----------------------------------------------------------------

    async def _load(self, name: str, config: RuntimeConfig) -> LoadedModel:
        loop = asyncio.get_running_loop()
        try:
            before = _rss_bytes()
            started = time.perf_counter()
            server = await loop.run_in_executor(self._pool(), build_server, config)
            after = _rss_bytes()
            memory = after - before if before is not None and after is not None else None
            model = LoadedModel(name, config, server, time.perf_counter() - started, memory)
            self._models[name] = model
            self._start_reaper()
            return model
        finally:
            self._loading.pop(name, None)

    async def acquire(self, name: str, config: RuntimeConfig) -> LoadedModel:
        """The loaded model (loading it if needed), counted active until `release()`."""
        self._bind_loop()
        while True:
            model = self._models.get(name)
            if model is not None and model.config != config:
                self._detach(name)  # settings changed since it was loaded
                model = None
            if model is None:
                pending = self._loading.get(name)
                if pending is None or pending[0] != config:
                    pending = (config, asyncio.get_running_loop().create_task(self._load(name, config)))
                    self._loading[name] = pending
                # shielded: a caller that goes away must not abort a load others wait for
                model = await asyncio.shield(pending[1])
            if not model.detached:
                model.active += 1
                return model

    def release(self, model: LoadedModel) -> None:
        model.active -= 1
        model.last_used = time.monotonic()
        if model.active == 0:
            if model.detached:
                self._close_soon(model)
            else:
                self._start_reaper()
                self._wake.set()

    # -- unloading --------------------------------------------------------------

    def _detach(self, name: str) -> LoadedModel | None:
        model = self._models.pop(name, None)
        if model is not None:
            model.detached = True
        return model

    def _close_soon(self, model: LoadedModel) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_in_executor(self._pool(), model.close)
        else:
            model.close()

    async def unload(self, name: str | None = None) -> list[str]:
        """Unload one model (or all). A busy one is freed as soon as its last request ends."""
        self._bind_loop()
        names = [name] if name is not None else list(self._models)
        unloaded: list[str] = []
        for each in names:
            model = self._detach(each)
            if model is None:
                continue
            unloaded.append(each)
            if model.active == 0:
                await asyncio.get_running_loop().run_in_executor(self._pool(), model.close)
        return unloaded

    def _start_reaper(self) -> None:
        if self.idle_unload_seconds <= 0 or (self._reaper is not None and not self._reaper.done()):
            return
        self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        idle = self.idle_unload_seconds
        while self._models:
            self._wake.clear()
            now = time.monotonic()
            wait = idle
            for name, model in list(self._models.items()):
                if model.active:
                    continue
                due = model.last_used + idle - now
                if due <= 0:
                    self._detach(name)
                    await asyncio.get_running_loop().run_in_executor(self._pool(), model.close)
                else:
                    wait = min(wait, due)
            if self._models:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.01))

    def loaded(self) -> list[LoadedInfo]:
        return [model.info() for model in self._models.values()]

    async def aclose(self) -> None:
        if self._reaper is not None and not self._reaper.done():
            self._reaper.cancel()
        await self.unload()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    # -- generating -------------------------------------------------------------

    async def stream(
        self, name: str, config: RuntimeConfig, body: dict[str, Any]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Raw llama.cpp chunks (and error dicts) for one streamed chat completion.

        Closing this iterator early cancels the generation and waits for the worker thread,
        so the slot is free again when `aclose()` returns.
        """
        model = await self.acquire(name, config)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        canceled = threading.Event()
        worker: asyncio.Future[None] | None = None

        def emit(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                canceled.set()

        def finished(_: asyncio.Future[None]) -> None:
            model.semaphore.release()
            self.release(model)

        try:
            await model.semaphore.acquire()
        except BaseException:
            self.release(model)
            raise
        try:
            worker = loop.run_in_executor(self._pool(), _generate, model.server, body, emit, canceled)
            worker.add_done_callback(finished)
            while (item := await queue.get()) is not _END:
                yield cast(dict[str, Any], item)
        finally:
            canceled.set()
            if worker is None:
                finished(loop.create_future())
            elif not worker.done():
                with contextlib.suppress(BaseException):
                    await asyncio.shield(worker)
