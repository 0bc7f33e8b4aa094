"""The live-web side of the CLI: the `--web` choice and the numbered sources printed after an answer."""

from __future__ import annotations

from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape

QUOTE_CHARS = 160


class WebMode(str, Enum):
    """`easel chat --web`: off, auto (search when the question needs the live web), on."""

    off = "off"
    auto = "auto"
    on = "on"


def print_sources(out: Console, extras: dict[str, Any] | None) -> None:
    """The answer's citations as a numbered list: title, host, URL, and the quoted passage."""
    citations = (extras or {}).get("citations") or []
    if not citations:
        return
    out.print("\nSources:", style="bold", highlight=False)
    for citation in citations:
        host = urlsplit(citation["url"]).hostname or ""
        out.print(f"[{citation['index']}] {escape(citation['title'])} — {escape(host)}", highlight=False,
                  markup=True)
        out.print(f"    {citation['url']}", highlight=False, markup=False, soft_wrap=True)
        quote = citation.get("quote") or ""
        if quote:
            short = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1] + "…"
            out.print(f"    “{short}”", style="dim", highlight=False, markup=False)
