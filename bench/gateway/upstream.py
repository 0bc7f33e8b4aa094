"""The benchmark's upstream: a minimal, fast OpenAI-compatible chat server on 127.0.0.1.

A raw asyncio protocol on uvloop (no framework) so that the upstream costs as little
as possible and the gateway in front of it is what gets measured. It answers
`POST .../chat/completions` in OpenAI's format:

- `"stream": false`: one `chat.completion` JSON body with `usage`, Content-Length framed;
- `"stream": true`: chunked SSE. The first write carries the headers, the role chunk and
  the first token; after one event-loop turn the other tokens, the finish chunk, the
  usage chunk (with `stream_options.include_usage`) and `data: [DONE]` follow in a
  second write. So "first chunk" and "whole stream" are distinct moments.

A request without `Authorization: Bearer ...` gets a 401 in OpenAI's shape; anything
but a chat completion gets a 404. Run: `python -m bench.gateway.upstream --port N`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from typing import Any

import orjson

#: the answer every request gets, one word a chunk when streamed
WORDS: tuple[str, ...] = tuple(
    "Sure. Here is a short answer from the benchmark upstream: fifteen words, and nothing more.".split(" ")
)
_COUNTER = itertools.count(1)


def _head(status: str, content_type: bytes, length: int | None) -> bytes:
    framing = b"content-length: %d\r\n" % length if length is not None else b"transfer-encoding: chunked\r\n"
    return (b"HTTP/1.1 " + status.encode() + b"\r\ncontent-type: " + content_type + b"\r\n" + framing
            + b"connection: keep-alive\r\n\r\n")


def _json_response(status: str, payload: dict[str, Any]) -> bytes:
    body = orjson.dumps(payload)
    return _head(status, b"application/json", len(body)) + body


def _error(status: str, message: str, kind: str, code: str | None) -> bytes:
    return _json_response(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _usage(prompt_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": len(WORDS),
            "total_tokens": prompt_tokens + len(WORDS)}


def completion(model: str, prompt_tokens: int) -> bytes:
    """A whole `chat.completion` response."""
    return _json_response("200 OK", {
        "id": f"chatcmpl-up{next(_COUNTER)}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": " ".join(WORDS), "refusal": None},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(prompt_tokens),
    })


def stream(model: str, prompt_tokens: int, include_usage: bool) -> tuple[bytes, bytes]:
    """A streamed answer as (first write, rest)."""
    prefix = (b'data: {"id":"chatcmpl-up%d","object":"chat.completion.chunk","created":%d,"model":%s,"choices":'
              % (next(_COUNTER), int(time.time()), orjson.dumps(model)))

    def frame(choices: list[dict[str, Any]], tail: bytes = b"") -> bytes:
        return _chunk(prefix + orjson.dumps(choices) + tail + b"}\n\n")

    def delta(content: dict[str, Any], finish: str | None = None) -> bytes:
        return frame([{"index": 0, "delta": content, "finish_reason": finish, "logprobs": None}])

    texts = [word if i == 0 else " " + word for i, word in enumerate(WORDS)]
    first = (_head("200 OK", b"text/event-stream", None) + delta({"role": "assistant", "content": ""})
             + delta({"content": texts[0]}))
    rest = [delta({"content": text}) for text in texts[1:]]
    rest.append(delta({}, "stop"))
    if include_usage:
        rest.append(frame([], b',"usage":' + orjson.dumps(_usage(prompt_tokens))))
    rest.append(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
    return first, b"".join(rest)


class UpstreamProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered in order."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:  # one turn per complete request in the buffer; stops when none is left
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            total = end + 4 + int(headers.get("content-length") or 0)
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4:total])
            del self.buffer[:total]
            self.answer(lines[0], headers, body)

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def answer(self, request_line: str, headers: dict[str, str], body: bytes) -> None:
        method, path, _ = request_line.split(" ", 2)
        if method == "GET" and path == "/healthz":
            self._write(_json_response("200 OK", {"status": "ok"}))
            return
        if method != "POST" or not path.endswith("/chat/completions"):
            self._write(_error("404 Not Found", f"Unknown route {method} {path}", "invalid_request_error", None))
            return
        if not headers.get("authorization", "").startswith("Bearer "):
            self._write(_error("401 Unauthorized", "Missing API key.", "invalid_request_error", "invalid_api_key"))
            return
        try:
            request = orjson.loads(body)
            model = str(request["model"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self._write(_error("400 Bad Request", "Invalid JSON body.", "invalid_request_error", None))
            return
        prompt_tokens = max(1, len(body) // 4)
        if not request.get("stream"):
            self._write(completion(model, prompt_tokens))
            return
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        first, rest = stream(model, prompt_tokens, include_usage)
        self._write(first)
        asyncio.get_running_loop().call_soon(self._write, rest)


async def serve(port: int, ready: asyncio.Event | None = None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(UpstreamProtocol, "127.0.0.1", port, backlog=1024)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
