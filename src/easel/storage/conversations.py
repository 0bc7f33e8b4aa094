"""Conversations and their messages: the repository the chat service and the API use.

Every call names the owner; a conversation owned by someone else is reported exactly
like a missing one (`NotFound`), so one account can never read, or learn of, another's
data. Results are plain pydantic records, never live ORM objects: callers never touch
sessions. A message's `seq` (its order in the conversation) is assigned inside the
write transaction after locking the conversation row, so concurrent appends never
collide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from easel.errors import InvalidRequest, NotFound
from easel.storage.db import Database
from easel.storage.tables import Conversation, Message, new_id, utcnow
from easel.tasks.chat import Role, Usage

MessageStatus = Literal["complete", "failed", "streaming"]
MAX_PAGE = 500


class MessageRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    conversation_id: str
    seq: int
    role: Role
    content: str
    content_parts: list[dict[str, Any]] | None = None
    reasoning: str | None = None
    model: str | None = None
    status: MessageStatus = "complete"
    error: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    cost: float | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    extras: dict[str, Any] | None = None
    created_at: datetime


class ConversationRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    title: str
    model: str
    system_prompt: str | None = None
    image_model: str | None = None
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationRecord):
    """A conversation with its messages, in `seq` order."""

    messages: list[MessageRecord]


def _not_found(conversation_id: str) -> NotFound:
    return NotFound(f"No conversation with id '{conversation_id}'.", param="conversation_id")


def _like_pattern(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _usage_columns(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cached_tokens": usage.cached_tokens,
    }


async def _touch(
    session: AsyncSession, *, owner_id: str, conversation_id: str, now: datetime | None = None, **values: Any
) -> Conversation:
    """Update the conversation (bumping updated_at) and return it; NotFound if absent or not owned.

    Writing first takes the row lock on PostgreSQL and the write lock on SQLite, which
    is what serialises concurrent appends to one conversation.
    """
    stmt = (
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.owner_id == owner_id)
        .values(updated_at=now or utcnow(), **values)
        .returning(Conversation)
        .execution_options(synchronize_session=False)
    )
    conversation = (await session.execute(stmt)).scalar_one_or_none()
    if conversation is None:
        raise _not_found(conversation_id)
    return conversation


class ConversationStore:
    """Conversations and messages in one `Database`; every method is keyword-only and owner-scoped."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create_conversation(
        self, *, owner_id: str, model: str, title: str = "", system_prompt: str | None = None,
        image_model: str | None = None,
    ) -> ConversationRecord:
        now = utcnow()
        row = Conversation(
            id=new_id("conv"),
            owner_id=owner_id,
            title=title,
            model=model,
            system_prompt=system_prompt,
            image_model=image_model,
            created_at=now,
            updated_at=now,
        )
        async with self.database.session() as session, session.begin():
            session.add(row)
        return ConversationRecord.model_validate(row)

    async def list_conversations(
        self, *, owner_id: str, limit: int = 50, offset: int = 0, search: str | None = None
    ) -> tuple[list[ConversationRecord], int]:
        """A page of the owner's conversations, most recently updated first, and the total matching."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}.", param="limit")
        if offset < 0:
            raise InvalidRequest("offset must not be negative.", param="offset")
        where = [Conversation.owner_id == owner_id]
        if search:
            where.append(Conversation.title.ilike(_like_pattern(search), escape="\\"))
        page = (
            select(Conversation)
            .where(*where)
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.database.session() as session:
            rows = (await session.scalars(page)).all()
            total = await session.scalar(select(func.count()).select_from(Conversation).where(*where))
        return [ConversationRecord.model_validate(r) for r in rows], int(total or 0)

    async def get_conversation(self, *, owner_id: str, conversation_id: str) -> ConversationDetail:
        async with self.database.session() as session:
            row = await session.scalar(
                select(Conversation).where(Conversation.id == conversation_id, Conversation.owner_id == owner_id)
            )
            if row is None:
                raise _not_found(conversation_id)
            messages = (
                await session.scalars(
                    select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
                )
            ).all()
        base = ConversationRecord.model_validate(row).model_dump()
        return ConversationDetail(**base, messages=[MessageRecord.model_validate(m) for m in messages])

    async def last_conversation(self, *, owner_id: str) -> ConversationRecord | None:
        """The owner's most recently updated conversation, if any."""
        async with self.database.session() as session:
            row = await session.scalar(
                select(Conversation)
                .where(Conversation.owner_id == owner_id)
                .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
                .limit(1)
            )
        return None if row is None else ConversationRecord.model_validate(row)

    async def update_conversation(
        self,
        *,
        owner_id: str,
        conversation_id: str,
        title: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        image_model: str | None = None,
    ) -> ConversationRecord:
        """Change the given fields (None leaves a field as it is)."""
        values: dict[str, Any] = {
            k: v for k, v in {"title": title, "model": model, "system_prompt": system_prompt,
                              "image_model": image_model}.items() if v is not None
        }
        async with self.database.session() as session, session.begin():
            row = await _touch(session, owner_id=owner_id, conversation_id=conversation_id, **values)
            return ConversationRecord.model_validate(row)

    async def rename_conversation(self, *, owner_id: str, conversation_id: str, title: str) -> ConversationRecord:
        return await self.update_conversation(owner_id=owner_id, conversation_id=conversation_id, title=title)

    async def delete_conversation(self, *, owner_id: str, conversation_id: str) -> None:
        """Delete a conversation; its messages go with it (ON DELETE CASCADE)."""
        stmt = (
            delete(Conversation)
            .where(Conversation.id == conversation_id, Conversation.owner_id == owner_id)
            .returning(Conversation.id)
            .execution_options(synchronize_session=False)
        )
        async with self.database.session() as session, session.begin():
            if (await session.execute(stmt)).scalar_one_or_none() is None:
                raise _not_found(conversation_id)

    async def add_message(
        self,
        *,
        owner_id: str,
        conversation_id: str,
        role: Role,
        content: str = "",
        content_parts: list[dict[str, Any]] | None = None,
        reasoning: str | None = None,
        model: str | None = None,
        status: MessageStatus = "complete",
        error: str | None = None,
        finish_reason: str | None = None,
        usage: Usage | None = None,
        cost: float | None = None,
        latency_ms: int | None = None,
        ttft_ms: int | None = None,
        extras: dict[str, Any] | None = None,
    ) -> MessageRecord:
        """Append a message with the next `seq` (1, 2, ...). Use status="streaming" for a turn in progress."""
        now = utcnow()
        async with self.database.session() as session, session.begin():
            await _touch(session, owner_id=owner_id, conversation_id=conversation_id, now=now)
            last = await session.scalar(
                select(func.coalesce(func.max(Message.seq), 0)).where(Message.conversation_id == conversation_id)
            )
            row = Message(
                id=new_id("msg"),
                conversation_id=conversation_id,
                seq=int(last or 0) + 1,
                role=role,
                content=content,
                content_parts=content_parts,
                reasoning=reasoning,
                model=model,
                status=status,
                error=error,
                finish_reason=finish_reason,
                cost=cost,
                latency_ms=latency_ms,
                ttft_ms=ttft_ms,
                extras=extras,
                created_at=now,
                **(_usage_columns(usage) if usage is not None else {}),
            )
            session.add(row)
        return MessageRecord.model_validate(row)

    async def replace_user_message(
        self, *, owner_id: str, conversation_id: str, message_id: str, content: str,
        content_parts: list[dict[str, Any]] | None = None,
    ) -> MessageRecord:
        """Edit-and-resend: drop a user message and every message after it, and append `content` in its place.

        One transaction, so a conversation is never left cut short without the new message. The new
        message gets a new id and the edited one's `seq`. NotFound if the message is not a message of
        this (owned) conversation; InvalidRequest if it is not the user's.
        """
        now = utcnow()
        async with self.database.session() as session, session.begin():
            await _touch(session, owner_id=owner_id, conversation_id=conversation_id, now=now)
            target = await session.scalar(
                select(Message).where(Message.id == message_id, Message.conversation_id == conversation_id)
            )
            if target is None:
                raise NotFound(f"No message with id '{message_id}' in this conversation.", param="edit_of")
            if target.role != "user":
                raise InvalidRequest("Only a user message can be edited.", param="edit_of")
            seq = target.seq
            await session.execute(
                delete(Message)
                .where(Message.conversation_id == conversation_id, Message.seq >= seq)
                .execution_options(synchronize_session=False)
            )
            row = Message(id=new_id("msg"), conversation_id=conversation_id, seq=seq, role="user", content=content,
                          content_parts=content_parts, status="complete", created_at=now)
            session.add(row)
        return MessageRecord.model_validate(row)

    async def update_message(
        self,
        *,
        owner_id: str,
        message_id: str,
        content: str | None = None,
        content_parts: list[dict[str, Any]] | None = None,
        reasoning: str | None = None,
        model: str | None = None,
        status: MessageStatus | None = None,
        error: str | None = None,
        finish_reason: str | None = None,
        usage: Usage | None = None,
        cost: float | None = None,
        latency_ms: int | None = None,
        ttft_ms: int | None = None,
    ) -> MessageRecord:
        """Finish (or fail) a turn: set the given fields, None leaves a field as it is."""
        values: dict[str, Any] = {
            k: v
            for k, v in {
                "content": content,
                "content_parts": content_parts,
                "reasoning": reasoning,
                "model": model,
                "status": status,
                "error": error,
                "finish_reason": finish_reason,
                "cost": cost,
                "latency_ms": latency_ms,
                "ttft_ms": ttft_ms,
            }.items()
            if v is not None
        }
        if usage is not None:
            values.update(_usage_columns(usage))
        async with self.database.session() as session, session.begin():
            row = await session.scalar(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.id == message_id, Conversation.owner_id == owner_id)
            )
            if row is None:
                raise NotFound(f"No message with id '{message_id}'.", param="message_id")
            await _touch(session, owner_id=owner_id, conversation_id=row.conversation_id)
            for key, value in values.items():
                setattr(row, key, value)
        return MessageRecord.model_validate(row)
