"""Keep a blind battle blind: find where an answer names its own model, maker or provider.

`identity_terms` lists the names a model could give itself away by: its id, upstream name,
display name, family, aliases, the serving provider, and the maker of the family (a model
served through OpenRouter still says "I'm Claude, made by Anthropic"). `SentenceFilter` runs
over a streamed answer and drops the easy cases, whole sentences where the model introduces
itself ("I'm Claude, an AI assistant made by Anthropic."), before they are shown; whatever
still names the model afterwards (`names_itself`) flags the battle, whose vote is then kept
out of the leaderboard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from easel.catalog.entry import ModelEntry

# The maker behind a model family, by the family's leading word: data, not a branch per provider.
MAKERS: dict[str, tuple[str, ...]] = {
    "claude": ("Claude", "Anthropic"),
    "gpt": ("GPT", "ChatGPT", "OpenAI"),
    "chatgpt": ("GPT", "ChatGPT", "OpenAI"),
    "o1": ("ChatGPT", "OpenAI"), "o3": ("ChatGPT", "OpenAI"), "o4": ("ChatGPT", "OpenAI"),
    "grok": ("Grok", "xAI"),
    "gemini": ("Gemini", "Google", "DeepMind"),
    "gemma": ("Gemma", "Google", "DeepMind"),
    "imagen": ("Imagen", "Google", "DeepMind"),
    "llama": ("Llama", "Meta"),
    "smollm": ("SmolLM", "Hugging Face", "HuggingFace"),
    "qwen": ("Qwen", "Alibaba", "Tongyi"),
    "mistral": ("Mistral",), "mixtral": ("Mixtral", "Mistral"), "codestral": ("Codestral", "Mistral"),
    "deepseek": ("DeepSeek",),
    "phi": ("Phi", "Microsoft"),
    "command": ("Cohere",),
}
# Provider and family words too common to mean a self-identification on their own.
COMMON_WORDS = frozenset({"local", "fake", "open", "custom", "default", "chat", "image", "model", "instruct",
                          "illustrator", "offline", "command", "phi", "o1", "o3", "o4"})
_SELF_INTRO = re.compile(
    r"\b(i am|i'm|i’m|my name is|as an?|as|this is|call me|i was (created|made|built|developed|trained)|"
    r"(created|made|built|developed|trained|designed) by|known as|called|model is|powered by)\b",
    re.IGNORECASE)
# A sentence ends at . ! or ? followed by whitespace, or at a line break.
_SENTENCE = re.compile(r"\s*[^\n]*?(?:[.!?]+(?=\s)|\n)", re.DOTALL)


def _family_head(family: str | None) -> str | None:
    if not family:
        return None
    head = re.split(r"[-_ .]", family.lower(), maxsplit=1)[0]
    return re.sub(r"\d+$", "", head) or head


def identity_terms(entry: ModelEntry, provider_display_name: str = "") -> list[str]:
    """Every name by which `entry` could identify itself, longest first, common words left out."""
    display = entry.display_name.split("(", 1)[0].strip()
    candidates = {entry.name, entry.upstream_name.rsplit(".gguf", 1)[0], display, display.split(" ", 1)[0],
                  entry.provider, provider_display_name.split("(", 1)[0].strip(), *entry.aliases}
    if entry.family:
        candidates.add(entry.family)
    head = _family_head(entry.family) or _family_head(entry.name)
    if head:
        candidates.add(head)
        candidates.update(MAKERS.get(head, ()))
    terms = {term.strip() for term in candidates if term and len(term.strip()) >= 3}
    return sorted((t for t in terms if t.lower() not in COMMON_WORDS), key=lambda t: (-len(t), t))


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = [re.escape(term).replace(r"\ ", r"[\s-]?") for term in terms]
    if not alternatives:
        return None
    # Not inside a longer word: "Grok" is not found in "grokking", "gpt" is found in "GPT-5".
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(alternatives) + r")(?![A-Za-z])", re.IGNORECASE)


def names_itself(text: str, terms: Iterable[str]) -> bool:
    pattern = _pattern(terms)
    return bool(pattern and pattern.search(text))


def is_self_introduction(sentence: str, terms: Iterable[str]) -> bool:
    """A sentence that both names the model and reads as the model introducing itself."""
    return names_itself(sentence, terms) and bool(_SELF_INTRO.search(sentence))


class SentenceFilter:
    """Feed streamed text in; get back the text to show, minus self-introducing sentences.

    Text is held back until its sentence ends, so a dropped sentence is never shown in part.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = list(terms)
        self.pattern = _pattern(self.terms)
        self.buffer = ""
        self.shown = ""
        self.stripped = 0

    def _take(self, sentence: str) -> str:
        if self.pattern and self.pattern.search(sentence) and _SELF_INTRO.search(sentence):
            self.stripped += 1
            kept = "\n" if sentence.endswith("\n") and self.shown else ""  # keep the paragraph break
            self.shown += kept
            return kept
        if not self.shown:
            sentence = sentence.lstrip()
        self.shown += sentence
        return sentence

    def feed(self, delta: str) -> str:
        self.buffer += delta
        out = []
        while match := _SENTENCE.match(self.buffer):
            self.buffer = self.buffer[match.end():]
            out.append(self._take(match.group(0)))
        return "".join(out)

    def flush(self) -> str:
        rest, self.buffer = self.buffer, ""
        return self._take(rest) if rest.strip() else ""

    @property
    def leaked(self) -> bool:
        """Whether what was shown still names the model."""
        return bool(self.pattern and self.pattern.search(self.shown))


def strip_self_introductions(text: str, terms: Iterable[str]) -> tuple[str, int, bool]:
    """The whole-text form of `SentenceFilter`: (shown text, sentences removed, still names itself)."""
    sentence_filter = SentenceFilter(terms)
    shown = sentence_filter.feed(text) + sentence_filter.flush()
    return shown, sentence_filter.stripped, sentence_filter.leaked
