"""The live-web side of the CLI: the `--web` and `--web-backend` choices and the numbered sources printed
after an answer."""

from __future__ import annotations

from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape

QUOTE_CHARS = 160


class WebMode(str, Enum):
    """`easel chat --web`: off, auto (search when the question needs the live web), on."""

    off = "off"
    auto = "auto"
    on = "on"


class WebBackend(str, Enum):
    """`easel chat --web-backend`: easel's own search, or the provider's server-side search tool."""

    easel = "easel"
    native = "native"


def web_options(web: WebMode | None, backend: WebBackend) -> dict[str, str]:
    """The turn options for the web choices; the provider's own search only means something with the web on."""
    if backend is WebBackend.native and web in (None, WebMode.off):
        raise typer.BadParameter("the provider's own search needs --web on or --web auto", param_hint="--web-backend")
    options = {"web_search": web.value} if web else {}
    if backend is WebBackend.native:
        options["web_search_backend"] = backend.value
    return options


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
