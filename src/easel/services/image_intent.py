"""Whether a chat message asks for a picture, and what to draw: plain functions, no I/O.

Three ways a chat turn becomes an image turn:
- the explicit command, `/image <prompt>` (any model);
- a natural-language request ("draw the pier at dawn", "make a picture of a fox"), only for
  models without tool calling (those decide for themselves through the `generate_image` tool);
- a refinement ("warmer light", "make it night", "now with a dog") right after an image turn.

Detection is conservative on purpose: a false positive replaces the answer a user wanted with
a picture they did not ask for, while a missed request costs one `/image`. So questions,
programming talk ("how do I draw a circle in CSS?") and idioms ("draw conclusions") stay chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

IMAGE_COMMAND = "/image"
IntentKind = Literal["command", "request", "refine"]

# Longer than this, a message is a conversation, not a tweak to a picture.
_MAX_REFINEMENT_WORDS = 16
_POLITE = r"(?:(?:please|pls|hey|ok(?:ay)?|so|now)[,!]?\s+)*(?:(?:can|could|would|will) you\s+(?:please\s+)?|i(?:'d| would) like you to\s+|i want you to\s+|let'?s\s+)?"
_PICTURE = r"(?:picture|image|photo(?:graph)?|illustration|drawing|painting|sketch|artwork|portrait|poster|wallpaper|render(?:ing)?)"
_DRAW_VERB = re.compile(rf"^{_POLITE}(?:draw|paint|sketch|illustrate)(?:\s+(?:me|us))?\s+(?P<subject>.+)$", re.I | re.S)
_MAKE_PICTURE = re.compile(
    rf"^{_POLITE}(?:generate|create|make|produce|design|render|give|show)(?:\s+(?:me|us))?\s+"
    rf"(?:(?:a|an|the|some|one|another)\s+)?(?P<style>(?:[\w-]+\s+){{0,2}}?){_PICTURE}s?\s+"
    rf"(?:of|showing|depicting|featuring|with)\s+(?P<subject>.+)$", re.I | re.S)
# Objects that make "draw" an idiom or a programming task, not a picture.
_NOT_A_SUBJECT = re.compile(
    r"^(?:(?:a|an|the|some|my|your|our|any)\s+)?(?:conclusions?|comparisons?|attention|distinctions?|parallels?|"
    r"the line|lines? between|up\b|inspiration|blood|cards?|lots|straws?|breath|water|fire|closer|near|back|"
    r"on\b|from\b|out\b|down\b|in\b|together|a blank|a crowd|funds?|money|salary|power|strength|"
    r"(?:bar |pie |line )?charts?|graphs?|diagrams?|plots?|tables?|flowcharts?|uml)", re.I)
_CODE_WORDS = re.compile(
    r"\b(?:css|html|svg|canvas|javascript|typescript|js|python|matplotlib|tkinter|turtle|opengl|pygame|"
    r"latex|tikz|ascii|excel|code|function|program|script|api|library|unity|figma)\b", re.I)
_QUESTION_START = re.compile(r"^(?:how|what|why|when|where|who|which|whose|is|are|was|were|do|does|did|should|"
                             r"explain|describe|tell me)\b", re.I)
_REFINEMENT_START = re.compile(
    r"^(?:(?:ok(?:ay)?|now|and|but|please|great|nice|cool)[,!]?\s+)*"
    r"(?:make (?:it|them|the|everything|this)\b|now\b|but\b|add\b|remove\b|without\b|with\b|change\b|turn (?:it|the)\b|"
    r"try (?:it|again|a|an)\b|again\b|same (?:but|thing)\b|this time\b|instead\b|more\b|less\b|at (?:night|dawn|dusk|sunset|"
    r"sunrise|noon)\b|in (?:the )?(?:style|winter|summer|autumn|fall|spring|the rain|the snow|black and white|"
    r"colou?r|watercolou?r|pixel art)\b|as an? \b|(?:warmer|cooler|colder|brighter|darker|softer|sharper|bigger|"
    r"smaller|larger|closer|wider|calmer|happier|sadder|simpler|bolder|lighter|busier|older|younger|taller|"
    r"shorter|redder|bluer|greener|moodier)\b)", re.I)
_REFINEMENT_LEAD = re.compile(r"^(?:(?:ok(?:ay)?|now|and|but|please|great|nice|cool|make (?:it|them|everything|this)|"
                              r"try it|try again|one more|this time|instead|again|same but|turn it)[,!]?(?:\s+|$))+", re.I)
_STOPWORDS = frozenset("a an the of in on at to and or with without it its is are be this that more less very "
                       "make now but please some into onto".split())


@dataclass(frozen=True, slots=True)
class ImageIntent:
    """What the turn should draw. For a refinement, `text` is the instruction and `previous` the last prompt."""

    kind: IntentKind
    text: str
    previous: str | None = None


def command_prompt(content: str) -> str | None:
    """The prompt of `/image <prompt>` ("" when nothing follows it); None for any other message."""
    stripped = content.strip()
    if not stripped.lower().startswith(IMAGE_COMMAND):
        return None
    rest = stripped[len(IMAGE_COMMAND):]
    if rest and not rest[0].isspace():  # "/images", "/imagine": another word
        return None
    return rest.strip()


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" .!,;:")


def requested_subject(content: str) -> str | None:
    """The subject of a natural-language picture request ("draw me a fox" -> "a fox"), else None."""
    text = _clean(content)
    if not text or _QUESTION_START.match(text) or _CODE_WORDS.search(text):
        return None
    text = text.rstrip("?").rstrip()
    for pattern in (_MAKE_PICTURE, _DRAW_VERB):
        found = pattern.match(text)
        if found:
            subject = _clean(re.sub(r"\s+(?:please|for me)$", "", found.group("subject"), flags=re.I))
            if subject and not _NOT_A_SUBJECT.match(subject):
                style = _clean(found.groupdict().get("style") or "")  # "a watercolor painting of" keeps "watercolor"
                return f"{subject}, {style}" if style else subject
    return None


def is_refinement(content: str) -> bool:
    """Whether a short message reads as a change to the picture just drawn ("warmer light")."""
    text = _clean(content)
    if not text or text.endswith("?") or len(text.split()) > _MAX_REFINEMENT_WORDS:
        return False
    if _QUESTION_START.match(text) or _CODE_WORDS.search(text):
        return False
    return bool(_REFINEMENT_START.match(text))


def detect(content: str, *, previous_prompt: str | None, natural_language: bool) -> ImageIntent | None:
    """The image intent of a message, if any. `natural_language` is False for models that have the tool."""
    prompt = command_prompt(content)
    if prompt is not None:
        return ImageIntent("command", prompt)
    if not natural_language:
        return None
    subject = requested_subject(content)
    if subject is not None:
        return ImageIntent("request", subject)
    if previous_prompt and is_refinement(content):
        return ImageIntent("refine", _clean(content), previous_prompt)
    return None


_PICTURE_TALK = re.compile(
    r"\b(?:draw|drew|drawn|paint|painted|sketch|illustrat\w*|pictures?|images?|photos?|drawings?|paintings?|"
    r"posters?|logos?|wallpapers?|portraits?|render|visuali[sz]e|artwork)\b", re.I)
IMAGE_NOTE = "[image generated:"


def invites_the_tool(user_text: str, previous_answer: str | None) -> bool:
    """Whether to offer a tool-calling model `generate_image` this turn: the message talks about pictures,
    or the previous answer drew one (so "warmer light" reaches a model that can redraw). Offering it on
    every turn would spend its schema's tokens on every chat and tempt models to draw unasked."""
    return bool(_PICTURE_TALK.search(user_text)) or IMAGE_NOTE in (previous_answer or "")


def merge_refinement(previous: str, instruction: str) -> str:
    """The deterministic refinement: the previous prompt plus the instruction's substance.

    "the pier at dawn" + "make it warmer light" -> "the pier at dawn, warmer light".
    """
    change = _REFINEMENT_LEAD.sub("", _clean(instruction))
    change = re.sub(r"^(?:remove|no)\s+", "without ", change, flags=re.I)
    change = re.sub(r"^add\s+", "with ", change, flags=re.I)
    change = re.sub(r"\s+(?:please|instead)$", "", change, flags=re.I)
    base = previous.strip().rstrip(" ,.;")
    return f"{base}, {change}" if change else base


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) > 2 and w not in _STOPWORDS}


def accept_rewrite(candidate: str, previous: str, instruction: str) -> str | None:
    """A chat model's rewritten prompt, if it is one: one line that keeps most of the picture and the whole change.

    Small models often answer with chatter, an echo of the question or a different picture;
    those are refused here and the deterministic merge is used instead.
    """
    lines = [line for line in candidate.strip().splitlines() if line.strip()]
    if not lines:
        return None
    line = lines[0].strip().strip("\"'`").strip()
    line = re.sub(r"^(?:new prompt|prompt)\s*:\s*", "", line, flags=re.I).strip().strip("\"'`").strip()
    if not line or len(line) > len(previous) + len(instruction) + 80:
        return None
    words = _content_words(line)
    if {"prompt", "rewrite", "said"} & words:
        return None
    change = _content_words(_REFINEMENT_LEAD.sub("", _clean(instruction)))
    kept = _content_words(previous)
    if not change <= words or (kept and len(kept & words) * 3 < len(kept) * 2):
        return None
    return line


def history_text(content: str, extras: dict[str, Any] | None) -> str:
    """How a stored answer reads to a chat model: pictures become "[image generated: <prompt>]".

    An image turn's own caption is left out (it only restates the prompt); an answer that
    called the tool keeps its text.
    """
    images = (extras or {}).get("images") or []
    if not images:
        return content
    notes = "\n".join(f"{IMAGE_NOTE} {image.get('prompt', '')}]" for image in images)
    if all(image.get("source") != "tool" for image in images):
        return notes
    return f"{content}\n{notes}" if content else notes
