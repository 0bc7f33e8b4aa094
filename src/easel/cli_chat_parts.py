"""What `easel chat` adds for images in and reasoning: files as image parts, and notes on how a reply was made.

`--image PATH` sends the file inline as a `data:` URL; the conversation keeps it as an uploaded
asset (services.chat_attachments). The files are read and checked to be images before anything
is created, so a wrong path leaves no empty conversation behind. After the reply, a note says when easel read an image for a
model that cannot see, and what it read, and which warnings the turn had.
"""

from __future__ import annotations

import base64
from enum import Enum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from easel.errors import InvalidRequest
from easel.services.chat_attachments import checked_image


def image_parts(paths: list[Path] | None) -> list[dict[str, Any]]:
    """Each file as an `image_url` part with a data: URL; a clear error when one cannot be read or is
    not an image (PNG, JPEG, WebP or GIF, judged by its bytes, not its name)."""
    parts: list[dict[str, Any]] = []
    for path in paths or []:
        try:
            data = path.expanduser().read_bytes()
        except OSError as exc:
            raise InvalidRequest(f"Cannot read the image '{path}': {exc.strerror or exc}.", param="image") from exc
        mime = checked_image(data, f"The image '{path}'")
        parts.append({"type": "image_url", "image_url": {"url": f"data:{mime};base64,{base64.b64encode(data).decode()}"}})
    return parts


def message_content(text: str, images: list[dict[str, Any]] | None) -> str | list[dict[str, Any]]:
    """The turn's content: the text alone, or the text and the image parts (from `image_parts`)."""
    if not images:
        return text
    return [{"type": "text", "text": text}, *images] if text else list(images)


def print_warnings(err: Console, warnings: list[str]) -> None:
    for warning in warnings:
        err.print(f"[yellow]note:[/yellow] {escape(warning)}")


def print_reading_notes(err: Console, extras: dict[str, Any] | None, model: str | None) -> None:
    """Say what easel read from images for a model without vision, and that a reply took two passes."""
    extras = extras or {}
    for item in extras.get("attachments_described") or []:
        read = f'"{item["ocr_text"]}"' if item.get("ocr_text") else "no text"
        err.print(f"[dim]easel read image {item['index']} with OCR for {escape(model or 'the model')}: "
                  f"{escape(read)} ({escape(', '.join(item.get('labels') or []))})[/dim]")
    if extras.get("mode") == "think_first":
        err.print("[dim]think first: two passes, a plan (shown as thinking), then the answer[/dim]")


class ReasoningEffortOption(str, Enum):
    """`--effort`: the chat vocabulary's reasoning_effort, as CLI choices."""

    none = "none"
    low = "low"
    medium = "medium"
    high = "high"
