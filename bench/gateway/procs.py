"""Process plumbing for the benchmark: free ports, pinned subprocesses, readiness, RSS, machine facts.

Every process the runner starts goes through `Proc`, which pins it to cores with
`taskset` (when given and available), logs its output to a file, and is stopped by its
own pid (SIGTERM, then SIGKILL after a bounded wait).
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get_status(port: int, path: str = "/healthz", timeout: float = 0.5) -> int | None:
    """The status of one GET on 127.0.0.1:port, or None when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return None
    return int(head[9:12]) if head.startswith(b"HTTP/1.") and len(head) >= 12 else None


@dataclass
class Proc:
    """A started subprocess and where its output goes."""

    name: str
    popen: subprocess.Popen[bytes]
    started: float  # perf_counter at spawn
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self, port: int, *, path: str = "/healthz", timeout: float = 60.0, poll: float = 0.005) -> float:
        """Seconds from spawn until GET path answers 200. Raises when the process dies or time runs out."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if http_get_status(port, path) == 200:
                return time.perf_counter() - self.started
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; see {self.log}")
            time.sleep(poll)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s; see {self.log}")

    def rss_mib(self) -> float:
        """Resident memory of the process now, in MiB (Linux /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for {self.name}")

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        return self.popen.returncode


def _busy_ticks() -> tuple[int, int]:
    """(busy, steal) clock ticks of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, steal


def _own_ticks(procs: Sequence[Proc]) -> int:
    """Ticks used by our long-running processes, this one, and its waited-for children."""
    total = 0
    for proc in procs:
        try:
            parts = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    hz = os.sysconf("SC_CLK_TCK")
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += round((usage.ru_utime + usage.ru_stime) * hz)
    return total


class ForeignLoad:
    """How busy the machine was with work that is not ours while a row ran (other users, the kernel).

    `share` is the fraction of all cores' time used by others; near 0 means a clean row.
    """

    def __init__(self, procs: Sequence[Proc]) -> None:
        self.procs = procs
        self.started = time.perf_counter()
        self.busy, self.steal = _busy_ticks()
        self.own = _own_ticks(procs)

    def stop(self) -> dict[str, float]:
        busy, steal = _busy_ticks()
        own = _own_ticks(self.procs)
        capacity = (time.perf_counter() - self.started) * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
        foreign = max(0, (busy - self.busy) - (own - self.own))
        return {"share": foreign / capacity, "steal_share": (steal - self.steal) / capacity}


def pinned(cmd: Sequence[str], cores: str | None) -> list[str]:
    """`cmd` prefixed with `taskset -c cores` when cores are given and taskset exists."""
    if cores is None or shutil.which("taskset") is None:
        return list(cmd)
    return ["taskset", "-c", cores, *cmd]


def start(name: str, cmd: Sequence[str], *, logs: Path, cores: str | None = None,
          env: dict[str, str] | None = None) -> Proc:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("wb") as fh:
        started = time.perf_counter()
        popen = subprocess.Popen(pinned(cmd, cores), stdout=fh, stderr=subprocess.STDOUT,
                                 env={**os.environ, **(env or {})}, cwd=Path(__file__).resolve().parents[2])
    return Proc(name, popen, started, log)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    packages = {}
    for name in ("uvicorn", "fastapi", "starlette", "pydantic", "httpx", "aiohttp", "uvloop", "httptools",
                 "orjson", "xllamacpp"):
        try:
            packages[name] = version(name)
        except Exception:  # not installed: say so in the table
            packages[name] = "-"
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kib / 1024**2, 1),
            "python": platform.python_version(), "kernel": platform.release(), "packages": packages}
