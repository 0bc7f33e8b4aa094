"""Readable text from a fetched page: the main text of HTML (trafilatura), the text of a PDF (pypdf).

CPU-bound; callers run `extract` in a worker thread.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from easel.websearch.fetch import FetchedPage

log = logging.getLogger(__name__)

_BLANKS = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class PageText:
    url: str
    title: str
    text: str


def _decode(page: FetchedPage) -> str:
    return page.body.decode(page.charset or "utf-8", errors="replace")


def html_text(html: str, url: str) -> tuple[str, str]:
    """(title, main text) of an HTML page, navigation, footers and other boilerplate left out."""
    import trafilatura  # lazily: it pulls in lxml and friends, needed only when pages are read

    document = trafilatura.bare_extraction(html, url=url, include_comments=False, include_tables=True,
                                           favor_recall=True, with_metadata=True)
    if document is None:
        return "", ""
    title = document.title or ""
    text = document.text or ""
    return title.strip(), text.strip()


def pdf_text(data: bytes) -> tuple[str, str]:
    """(title, text) of a PDF, page after page."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "")
    except (PdfReadError, ValueError, KeyError) as exc:
        log.info("unreadable PDF: %s", exc)
        return "", ""
    return title.strip(), _BLANKS.sub("\n\n", "\n\n".join(p.strip() for p in pages if p.strip()))


def extract(page: FetchedPage, *, fallback_title: str = "") -> PageText:
    """The page's readable text; empty text when nothing readable was found."""
    if page.content_type == "application/pdf":
        title, text = pdf_text(page.body)
    elif page.content_type == "text/plain":
        title, text = "", _decode(page).strip()
    else:
        title, text = html_text(_decode(page), page.url)
    return PageText(url=page.url, title=title or fallback_title or page.url, text=text)
