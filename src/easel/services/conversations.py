"""Conversations: follow-ups over any chat model, each turn stored with its reasoning, usage and timings.

A turn stores the user's message first, then streams the model's answer, then stores the
answer. If the model fails, the answer is stored as a failed message with the error, the
user's message stays, and `retry()` runs the turn again (with the same or another model).
Failed answers are never sent back to a model as history. A follow-up may switch model:
the earlier answers, whoever wrote them, are the history the new model reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Union
from weakref import WeakValueDictionary

from pydantic import BaseModel, ConfigDict, Field

from easel.config import Settings
from easel.errors import EaselError, InvalidRequest, NotFound
from easel.services.chat import ChatService, ChatTimings, PreparedChat
from easel.services.chat_attachments import ChatAttachments, accept_content, resolve_images
from easel.services.image_intent import command_prompt, history_text
from easel.storage.conversations import ConversationDetail, ConversationRecord, ConversationStore, MessageRecord
from easel.storage.db import Database
from easel.tasks.chat import ChatEvent, ChatMessage, ChatRequest, ChatResult, ReasoningEffort, WebSearchMode

if TYPE_CHECKING:
    from easel.services.chat_images import ChatImages

TITLE_LENGTH = 60


class TurnOptions(BaseModel):
    """Per-turn sampling options, in the chat vocabulary."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    stop: list[str] | None = None
    reasoning_effort: ReasoningEffort | None = None
    think_first: bool = Field(default=False, description="Two passes: a plan shown as reasoning, then the answer.")
    web_search: WebSearchMode | None = Field(default=None, description="Live web: off, auto or on (cited sources).")
    web_search_backend: Literal["native"] | None = Field(
        default=None, description="'native': the provider's own server-side search, for models that have one.")


@dataclass(slots=True)
class TurnStarted:
    conversation_id: str
    user_message_id: str | None
    model: str
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TurnFinished:
    message: MessageRecord


@dataclass(slots=True)
class TurnFailed:
    message: MessageRecord
    error: EaselError


TurnEvent = Union[ChatEvent, TurnStarted, TurnFinished, TurnFailed]


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def history_of(detail: ConversationDetail) -> list[ChatMessage]:
    """What the model reads: the system prompt and every complete message, in order.

    A regenerated answer replaces the one before it: of several complete answers in a row,
    only the last is history.
    """
    messages: list[ChatMessage] = []
    if detail.system_prompt:
        messages.append(ChatMessage(role="system", content=detail.system_prompt))
    for message in detail.messages:
        if message.status != "complete" or message.role not in ("user", "assistant"):
            continue
        if message.role == "assistant" and messages and messages[-1].role == "assistant":
            messages.pop()
        messages.append(ChatMessage(role=message.role, content=message.content_parts  # a user's images
                                    or history_text(message.content, message.extras)))
    return messages


def _cut_before(detail: ConversationDetail, message_id: str) -> ConversationDetail:
    """The conversation as it was before one of its user messages (checked to exist and be the user's)."""
    for index, message in enumerate(detail.messages):
        if message.id == message_id:
            if message.role != "user":
                raise InvalidRequest("Only a user message can be edited.", param="edit_of")
            return detail.model_copy(update={"messages": detail.messages[:index]})
    raise NotFound(f"No message with id '{message_id}' in this conversation.", param="edit_of")


class ConversationService:
    def __init__(self, *, database: Database, chat: ChatService, settings: Settings) -> None:
        self.store = ConversationStore(database)
        self.chat = chat
        self.settings = settings
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self.chat_images: ChatImages | None = None  # pictures inside turns; open_studio attaches it
        self.attachments: ChatAttachments | None = None  # images in user messages; open_studio attaches it

    # -- conversations -------------------------------------------------------

    async def create(self, *, owner_id: str, model: str | None = None, system_prompt: str | None = None,
                     title: str | None = None, image_model: str | None = None) -> ConversationRecord:
        entry = self.chat.catalog.resolve(model or self.settings.default_chat_model, task="chat")
        if self.chat_images:  # None: the default image model
            image_model = self.chat_images.resolve_model(image_model)
        return await self.store.create_conversation(owner_id=owner_id, model=entry.id, title=title or "",
                                                    system_prompt=system_prompt, image_model=image_model)

    async def list(self, *, owner_id: str, limit: int = 20, offset: int = 0,
                   search: str | None = None) -> tuple[list[ConversationRecord], int]:
        return await self.store.list_conversations(owner_id=owner_id, limit=limit, offset=offset, search=search)

    async def get(self, *, owner_id: str, conversation_id: str) -> ConversationDetail:
        return await self.store.get_conversation(owner_id=owner_id, conversation_id=conversation_id)

    async def last(self, *, owner_id: str) -> ConversationRecord | None:
        return await self.store.last_conversation(owner_id=owner_id)

    async def rename(self, *, owner_id: str, conversation_id: str, title: str) -> ConversationRecord:
        return await self.store.rename_conversation(owner_id=owner_id, conversation_id=conversation_id, title=title)

    async def delete(self, *, owner_id: str, conversation_id: str) -> None:
        await self.store.delete_conversation(owner_id=owner_id, conversation_id=conversation_id)

    # -- turns ---------------------------------------------------------------

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    async def send(self, *, owner_id: str, conversation_id: str, content: str | list[dict[str, Any]],
                   model: str | None = None,
                   options: TurnOptions | None = None, edit_of: str | None = None) -> AsyncIterator[TurnEvent]:
        """A follow-up: store the user's message, stream the answer, store the answer.

        With `edit_of` (the id of one of the conversation's user messages) the turn is an
        edit-and-resend: that message and everything after it are replaced by `content`, and
        the model reads only what came before it. Nothing is removed if the turn is refused.
        """
        content, parts = await accept_content(self.attachments, owner_id=owner_id, content=content)
        lock = self._lock(conversation_id)
        async with lock:
            detail = await self.get(owner_id=owner_id, conversation_id=conversation_id)
            if edit_of is not None:
                detail = _cut_before(detail, edit_of)
            history = [*history_of(detail), ChatMessage(role="user", content=parts or content)]
            prepared = self.chat.prepare(self._request(model or detail.model, history, options))
            await resolve_images(self.attachments, prepared, owner_id=owner_id)
            image_turn = self.chat_images.plan(detail, content, prepared) if self.chat_images else None
            if edit_of is not None:
                user = await self.store.replace_user_message(owner_id=owner_id, conversation_id=conversation_id,
                                                             message_id=edit_of, content=content,
                                                             content_parts=parts)
            else:
                user = await self.store.add_message(owner_id=owner_id, conversation_id=conversation_id,
                                                    role="user", content=content, content_parts=parts)
            if not detail.title:
                await self.store.rename_conversation(owner_id=owner_id, conversation_id=conversation_id,
                                                     title=_title_from(command_prompt(content) or content or "Image"))
            if prepared.entry.id != detail.model:
                await self.store.update_conversation(owner_id=owner_id, conversation_id=conversation_id,
                                                     model=prepared.entry.id)
            turn = (self.chat_images.run(image_turn, owner_id=owner_id, conversation_id=conversation_id,
                                         user_message_id=user.id) if image_turn and self.chat_images
                    else self._answer(owner_id, conversation_id, user.id, prepared))
            async for event in turn:
                yield event

    async def retry(self, *, owner_id: str, conversation_id: str, model: str | None = None,
                    options: TurnOptions | None = None) -> AsyncIterator[TurnEvent]:
        """Answer the last user message again (after a failure, or to get another answer)."""
        lock = self._lock(conversation_id)
        async with lock:
            detail = await self.get(owner_id=owner_id, conversation_id=conversation_id)
            history = history_of(detail)
            while history and history[-1].role == "assistant":
                history.pop()
            if not history or history[-1].role != "user":
                raise InvalidRequest("There is no user message to answer in this conversation.",
                                     param="conversation_id")
            prepared = self.chat.prepare(self._request(model or detail.model, history, options))
            await resolve_images(self.attachments, prepared, owner_id=owner_id)
            image_turn = self.chat_images.plan_retry(detail, prepared) if self.chat_images else None
            turn = (self.chat_images.run(image_turn, owner_id=owner_id, conversation_id=conversation_id,
                                         user_message_id=None) if image_turn and self.chat_images
                    else self._answer(owner_id, conversation_id, None, prepared))
            async for event in turn:
                yield event

    def _request(self, model: str, history: list[ChatMessage], options: TurnOptions | None) -> ChatRequest:
        fields = options.model_dump(exclude_none=True) if options else {}
        return ChatRequest(model=model, messages=history, **fields)

    async def _answer(self, owner_id: str, conversation_id: str, user_message_id: str | None,
                      prepared: PreparedChat) -> AsyncIterator[TurnEvent]:
        yield TurnStarted(conversation_id, user_message_id, prepared.entry.id, prepared.warnings)
        timings = ChatTimings(started=time.perf_counter())
        result = ChatResult()
        error: EaselError | None = None
        try:
            stream = (self.chat_images.answer(prepared, owner_id=owner_id, conversation_id=conversation_id,
                                              timings=timings) if self.chat_images
                      else self.chat.stream(prepared, owner_id=owner_id, endpoint="/api/conversations",
                                            timings=timings))
            async for event in stream:
                result.add(event)
                yield event
        except EaselError as exc:
            error = exc
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away mid-answer: keep what was said, marked failed, then stop.
            await asyncio.shield(self._store_answer(owner_id, conversation_id, prepared, result, timings,
                                                    "Stopped before the answer was complete."))
            raise
        message = await self._store_answer(owner_id, conversation_id, prepared, result, timings,
                                           error.message if error else None)
        yield TurnFailed(message, error) if error else TurnFinished(message)

    async def _store_answer(self, owner_id: str, conversation_id: str, prepared: PreparedChat, result: ChatResult,
                            timings: ChatTimings, error: str | None) -> MessageRecord:
        entry = prepared.entry
        usage = timings.usage
        return await self.store.add_message(
            owner_id=owner_id, conversation_id=conversation_id, role="assistant", content=result.text,
            reasoning=result.reasoning or None, model=entry.id, status="failed" if error else "complete",
            error=error, finish_reason=None if error else result.finish_reason, usage=usage,
            cost=entry.cost(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) if usage else None,
            latency_ms=round(timings.total_ms or (time.perf_counter() - timings.started) * 1000),
            ttft_ms=round(timings.first_token_ms) if timings.first_token_ms is not None else None,
            extras={**prepared.extras, **({"images": result.images} if result.images else {})} or None,
        )

