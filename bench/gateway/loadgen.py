"""The load generator: closed-loop HTTP/1.1 keep-alive clients on raw asyncio protocols.

`concurrency` connections each send the same pre-built request, read the whole answer
(Content-Length or chunked framing), and send the next one at once. Only callbacks run
per request (no coroutine, no HTTP library), so one core drives tens of thousands of
requests a second: the client is never the bottleneck (`self_check` measures its ceiling
and the run reports the client's own CPU use).

Per request it records the latency (request written -> last byte) and, for streams, the
first-chunk latency (request written -> first body byte). Answers that are not a 200 with
`usage` (and, for streams, `data: [DONE]`) count as errors. Requests that end within the
measured window count; the warm-up before it is discarded. Run:
`python -m bench.gateway.loadgen --port N --concurrency 8 --duration 8 [--stream | --get /healthz]`;
it prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson

PATH = "/v1/chat/completions"
PROMPT = [
    {"role": "system", "content": "You are a concise assistant. Answer in one short paragraph."},
    {"role": "user", "content": "Explain in two sentences why a gateway should add as little latency as it can."},
]


def request_bytes(port: int, *, model: str, stream: bool, key: str, get: str | None = None) -> bytes:
    """The one request every client sends, byte for byte the same to every target (or a bare GET of `get`)."""
    if get is not None:
        return f"GET {get} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n".encode()
    payload: dict[str, Any] = {"model": model, "messages": PROMPT, "max_tokens": 64, "temperature": 0.2}
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    body = orjson.dumps(payload)
    head = (f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: Bearer {key}\r\n"
            f"content-type: application/json\r\naccept: application/json\r\ncontent-length: {len(body)}\r\n\r\n")
    return head.encode() + body


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    first_chunks: list[float] = field(default_factory=list)
    errors: int = 0
    total: int = 0  # answers completed, warm-up and drain included
    first_error: str | None = None
    measure_from: float = 0.0
    measure_to: float = 0.0
    stop_at: float = 0.0


class Client(asyncio.Protocol):
    """One connection running requests back to back until `samples.stop_at`."""

    def __init__(self, request: bytes, stream: bool, samples: Samples, done: asyncio.Future[None],
                 chat: bool = True) -> None:
        self.request, self.stream, self.samples, self.done, self.chat = request, stream, samples, done, chat
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self._error(f"connection lost: {exc}")
            self.done.set_result(None)

    def _send(self) -> None:
        assert self.transport is not None
        self.buffer.clear()
        self.body.clear()
        self.header_end = -1
        self.status = 0
        self.length: int | None = None
        self.pos = 0
        self.first = 0.0
        self.started = time.perf_counter()
        self.transport.write(self.request)

    def _error(self, why: str) -> None:
        self.samples.errors += 1
        self.samples.first_error = self.samples.first_error or why

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if self.header_end < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.header_end = self.pos = end + 4
            head = bytes(self.buffer[:end]).lower()
            self.status = int(head[9:12])
            for line in head.split(b"\r\n")[1:]:
                if line.startswith(b"content-length:"):
                    self.length = int(line[15:])
        if not self.first and len(self.buffer) > self.header_end:
            self.first = now
        if not self._complete():
            return
        self._finish(now)

    def _complete(self) -> bool:
        """Whether the whole answer is in; de-chunks into `self.body` as it goes."""
        if self.length is not None:
            if len(self.buffer) < self.header_end + self.length:
                return False
            self.body += self.buffer[self.header_end:self.header_end + self.length]
            return True
        while True:  # one chunk per turn; stops at the last chunk or when data runs out
            line_end = self.buffer.find(b"\r\n", self.pos)
            if line_end < 0:
                return False
            size = int(self.buffer[self.pos:line_end].split(b";")[0], 16)
            if size == 0:
                return len(self.buffer) >= line_end + 4
            data_end = line_end + 2 + size
            if len(self.buffer) < data_end + 2:
                return False
            self.body += self.buffer[line_end + 2:data_end]
            self.pos = data_end + 2

    def _finish(self, now: float) -> None:
        samples = self.samples
        samples.total += 1
        ok = self.status == 200 and (not self.chat or (b'"usage"' in self.body and (
            not self.stream or b"data: [DONE]" in self.body)))
        if samples.measure_from <= self.started and now <= samples.measure_to:
            if ok:
                samples.latencies.append(now - self.started)
                if self.stream:
                    samples.first_chunks.append(self.first - self.started)
            else:
                self._error(f"HTTP {self.status}: {bytes(self.body[:300])!r}")
        if now < samples.stop_at:
            self._send()
        elif not self.done.done():
            self.done.set_result(None)
            assert self.transport is not None
            self.transport.close()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank, of sorted `values`."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, round(q / 100 * len(values) + 0.5) - 1))
    return values[rank]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    ms = 1000.0
    return {"p50_ms": percentile(ordered, 50) * ms, "p90_ms": percentile(ordered, 90) * ms,
            "p99_ms": percentile(ordered, 99) * ms, "max_ms": (ordered[-1] * ms) if ordered else float("nan"),
            "mean_ms": (sum(ordered) / len(ordered) * ms) if ordered else float("nan")}


async def run(port: int, *, concurrency: int, duration: float, warmup: float, stream: bool, model: str,
              key: str, get: str | None = None) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    request = request_bytes(port, model=model, stream=stream, key=key, get=get)
    samples = Samples()
    start = time.perf_counter()
    samples.measure_from = start + warmup
    samples.measure_to = samples.stop_at = start + warmup + duration
    dones: list[asyncio.Future[None]] = []
    for _ in range(concurrency):
        done: asyncio.Future[None] = loop.create_future()
        dones.append(done)
        await loop.create_connection(partial(Client, request, stream, samples, done, get is None), "127.0.0.1", port)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    # bounded: every client stops at stop_at; a stuck one is given up on after 10 s more
    await asyncio.wait(dones, timeout=warmup + duration + 10)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    result: dict[str, Any] = {
        "concurrency": concurrency, "stream": stream, "duration_s": duration, "warmup_s": warmup,
        "requests": len(samples.latencies), "completed_total": samples.total, "errors": samples.errors,
        "first_error": samples.first_error,
        "rps": len(samples.latencies) / duration, "latency": summary(samples.latencies),
        "client_cpu_share": cpu / (time.perf_counter() - start),
    }
    if stream:
        result["first_chunk"] = summary(samples.first_chunks)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="closed-loop load on POST /v1/chat/completions")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--get", metavar="PATH", help="send a bare GET of PATH instead (only a 200 is checked)")
    parser.add_argument("--model", default="gpt-5")
    parser.add_argument("--key", default="sk-bench")
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(run(args.port, concurrency=args.concurrency, duration=args.duration, warmup=args.warmup,
                            stream=args.stream, model=args.model, key=args.key, get=args.get))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
