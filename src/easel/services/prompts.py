"""Prompt enhancement: a chat model turns a short idea into a detailed scene description."""

from __future__ import annotations

from easel.services.chat import ChatService
from easel.tasks.chat import ChatMessage, ChatRequest, ChatResult

ENHANCE_SYSTEM = (
    "You write prompts for an image generator. Expand the user's idea into one vivid scene description "
    "of 40 to 80 words: the subject, the setting, the lighting, the camera angle, the mood and the style. "
    "Answer with the description only, no preamble, no quotes, no lists."
)


async def enhance_prompt(chat: ChatService, *, owner_id: str, idea: str, model: str) -> tuple[str, str]:
    """The expanded prompt and the model that wrote it. Falls back to the idea if the answer is empty."""
    request = ChatRequest(model=model, max_tokens=200, temperature=0.7,
                          messages=[ChatMessage(role="system", content=ENHANCE_SYSTEM),
                                    ChatMessage(role="user", content=idea)])
    prepared = chat.prepare(request)
    result = ChatResult()
    async for event in chat.stream(prepared, owner_id=owner_id, endpoint="/api/prompts/enhance"):
        result.add(event)
    text = " ".join(result.text.split()).strip().strip('"')
    return (text or idea), prepared.entry.id
