"""Split page text into passages and keep the ones most relevant to a question, within a token budget.

Relevance is Okapi BM25 over the passages of all pages together: no model, no network,
milliseconds for a handful of pages.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Words that say nothing about what a question is about.
_STOPWORDS = frozenset("""a an and are as at be by can do does did for from has have how i in is it its me my of on
    or our please tell that the their them there these they this to was what when where which who whom why will
    with you your about into than then so if not no yes any all some just also""".split())
PASSAGE_WORDS = 90
CHARS_PER_TOKEN = 4
K1 = 1.5
B = 0.75


@dataclass(frozen=True, slots=True)
class Passage:
    source: int  # the index of the page it came from
    text: str
    position: int  # its order within the page


def terms(text: str) -> list[str]:
    """Lower-case words minus stop words: what BM25 counts."""
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _STOPWORDS]


def split_passages(text: str, source: int, *, words: int = PASSAGE_WORDS) -> list[Passage]:
    """Paragraphs joined or cut into passages of about `words` words, sentences kept whole where possible."""
    passages: list[Passage] = []
    current: list[str] = []
    count = 0

    def flush() -> None:
        nonlocal current, count
        if current:
            passages.append(Passage(source, " ".join(current), len(passages)))
        current, count = [], 0

    for paragraph in (p.strip() for p in re.split(r"\n\s*\n|\n", text)):
        if not paragraph:
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            size = len(sentence.split())
            if count and count + size > words:
                flush()
            current.append(sentence)
            count += size
        if count >= words // 2:
            flush()
    flush()
    return passages


def bm25_scores(query: str, documents: list[str]) -> list[float]:
    """Okapi BM25 of each document for `query`."""
    query_terms = set(terms(query))
    tokenized = [terms(d) for d in documents]
    if not tokenized or not query_terms:
        return [0.0] * len(documents)
    average = sum(len(t) for t in tokenized) / len(tokenized) or 1.0
    frequency = Counter(term for t in tokenized for term in set(t) if term in query_terms)
    n = len(tokenized)
    scores = []
    for tokens in tokenized:
        counts = Counter(tokens)
        score = 0.0
        for term in query_terms:
            tf = counts.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(tokens) / average))
        scores.append(score)
    return scores


def select(query: str, passages: list[Passage], *, token_budget: int, per_source: int = 3) -> list[Passage]:
    """The best passages for `query` that fit in `token_budget`, at most `per_source` from one page,
    in page order within each page so that they read naturally."""
    scores = bm25_scores(query, [p.text for p in passages])
    ranked = sorted(range(len(passages)), key=lambda i: (-scores[i], passages[i].source, passages[i].position))
    chosen: list[Passage] = []
    used = 0
    taken: Counter[int] = Counter()
    for i in ranked:
        passage = passages[i]
        cost = len(passage.text) // CHARS_PER_TOKEN + 1
        if taken[passage.source] >= per_source or used + cost > token_budget:
            continue
        chosen.append(passage)
        used += cost
        taken[passage.source] += 1
    return sorted(chosen, key=lambda p: (p.source, p.position))


def best_sentence(query: str, text: str, *, max_chars: int = 300) -> str:
    """The sentence of `text` that best matches `query` (a citation's quote), trimmed to `max_chars`."""
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    if not sentences:
        return ""
    scores = bm25_scores(query, sentences)
    best = sentences[max(range(len(sentences)), key=lambda i: scores[i])]
    return best if len(best) <= max_chars else best[: max_chars - 1].rstrip() + "…"
