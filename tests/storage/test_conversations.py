"""The conversation repository on both backends: CRUD, paging, search, seq order, ownership."""

from __future__ import annotations

import asyncio
from datetime import UTC

import pytest

from easel.errors import InvalidRequest, NotFound
from easel.storage.accounts import AccountStore
from easel.storage.conversations import ConversationStore
from easel.storage.db import Database
from easel.storage.tables import LOCAL_ACCOUNT_ID
from easel.tasks.chat import Usage

ME = LOCAL_ACCOUNT_ID


@pytest.fixture
def store(database: Database) -> ConversationStore:
    return ConversationStore(database)


@pytest.fixture
async def other_owner(database: Database) -> str:
    return (await AccountStore(database).create_account(name="mallory")).id


async def test_create_and_get(store: ConversationStore) -> None:
    conv = await store.create_conversation(owner_id=ME, model="xai:grok-4", title="Plans", system_prompt="Be brief.")
    assert conv.id.startswith("conv_")
    assert conv.created_at.tzinfo is UTC and conv.updated_at == conv.created_at
    got = await store.get_conversation(owner_id=ME, conversation_id=conv.id)
    assert got.model_dump(exclude={"messages"}) == conv.model_dump()
    assert got.messages == []


async def test_messages_come_back_in_seq_order(store: ConversationStore) -> None:
    conv = await store.create_conversation(owner_id=ME, model="m")
    texts = ["first", "second", "third"]
    added = []
    for i, text in enumerate(texts):
        added.append(
            await store.add_message(
                owner_id=ME, conversation_id=conv.id, role="user" if i % 2 == 0 else "assistant", content=text
            )
        )
    assert [m.seq for m in added] == [1, 2, 3]
    assert all(m.id.startswith("msg_") for m in added)
    got = await store.get_conversation(owner_id=ME, conversation_id=conv.id)
    assert [m.content for m in got.messages] == texts
    assert [m.role for m in got.messages] == ["user", "assistant", "user"]
    assert got.updated_at >= added[-1].created_at >= conv.created_at


async def test_concurrent_appends_get_distinct_seqs(store: ConversationStore) -> None:
    conv = await store.create_conversation(owner_id=ME, model="m")
    results = await asyncio.gather(
        *(store.add_message(owner_id=ME, conversation_id=conv.id, role="user", content=str(i)) for i in range(12))
    )
    assert sorted(m.seq for m in results) == list(range(1, 13))


async def test_streaming_turn_is_finished_by_update(store: ConversationStore) -> None:
    conv = await store.create_conversation(owner_id=ME, model="m")
    await store.add_message(
        owner_id=ME,
        conversation_id=conv.id,
        role="user",
        content="why?",
        content_parts=[{"type": "text", "text": "why?"}],
    )
    pending = await store.add_message(
        owner_id=ME, conversation_id=conv.id, role="assistant", model="m", status="streaming"
    )
    assert pending.status == "streaming" and pending.content == "" and pending.prompt_tokens is None

    done = await store.update_message(
        owner_id=ME,
        message_id=pending.id,
        content="Because.",
        reasoning="thinking...",
        status="complete",
        finish_reason="stop",
        usage=Usage(prompt_tokens=11, completion_tokens=3, reasoning_tokens=2, cached_tokens=5),
        cost=0.0012,
        latency_ms=420,
        ttft_ms=80,
    )
    assert (done.content, done.reasoning, done.status, done.finish_reason) == (
        "Because.",
        "thinking...",
        "complete",
        "stop",
    )
    assert (done.prompt_tokens, done.completion_tokens, done.reasoning_tokens, done.cached_tokens) == (11, 3, 2, 5)
    assert done.cost == pytest.approx(0.0012) and (done.latency_ms, done.ttft_ms) == (420, 80)
    assert done.model == "m" and done.seq == 2  # untouched fields stay

    got = await store.get_conversation(owner_id=ME, conversation_id=conv.id)
    assert got.messages[0].content_parts == [{"type": "text", "text": "why?"}]
    assert got.messages[1] == done

    failed = await store.add_message(owner_id=ME, conversation_id=conv.id, role="assistant", status="streaming")
    failed = await store.update_message(owner_id=ME, message_id=failed.id, status="failed", error="upstream timed out")
    assert (failed.status, failed.error) == ("failed", "upstream timed out")


async def test_list_pages_totals_and_search(store: ConversationStore, other_owner: str) -> None:
    titles = ["Trip to Rome", "Budget 2026", "rome again", "Poems", "100% sure_thing"]
    created = [await store.create_conversation(owner_id=ME, model="m", title=t) for t in titles]
    await store.create_conversation(owner_id=other_owner, model="m", title="Rome, not yours")

    items, total = await store.list_conversations(owner_id=ME, limit=2)
    assert total == 5
    assert [c.id for c in items] == [created[4].id, created[3].id]  # newest first
    items, total = await store.list_conversations(owner_id=ME, limit=2, offset=4)
    assert total == 5 and [c.id for c in items] == [created[0].id]

    # Touching an old conversation moves it to the top.
    await store.add_message(owner_id=ME, conversation_id=created[0].id, role="user", content="hi")
    items, _ = await store.list_conversations(owner_id=ME, limit=1)
    assert items[0].id == created[0].id

    items, total = await store.list_conversations(owner_id=ME, search="ROME")
    assert total == 2 and {c.title for c in items} == {"Trip to Rome", "rome again"}
    # LIKE wildcards in the search are literal characters.
    _, total = await store.list_conversations(owner_id=ME, search="%")
    assert total == 1
    _, total = await store.list_conversations(owner_id=ME, search="s_r")  # as a wildcard, "_" would match "sur"
    assert total == 0
    items, total = await store.list_conversations(owner_id=ME, search="sure_thing")
    assert total == 1 and items[0].title == "100% sure_thing"

    with pytest.raises(InvalidRequest):
        await store.list_conversations(owner_id=ME, limit=0)
    with pytest.raises(InvalidRequest):
        await store.list_conversations(owner_id=ME, offset=-1)


async def test_rename_update_and_last(store: ConversationStore) -> None:
    assert await store.last_conversation(owner_id=ME) is None
    a = await store.create_conversation(owner_id=ME, model="m", title="a")
    b = await store.create_conversation(owner_id=ME, model="m", title="b")
    last = await store.last_conversation(owner_id=ME)
    assert last is not None and last.id == b.id

    renamed = await store.rename_conversation(owner_id=ME, conversation_id=a.id, title="A, renamed")
    assert renamed.title == "A, renamed" and renamed.model == "m" and renamed.updated_at > a.updated_at
    last = await store.last_conversation(owner_id=ME)
    assert last is not None and last.id == a.id

    changed = await store.update_conversation(
        owner_id=ME, conversation_id=b.id, model="xai:grok-4", system_prompt="Terse."
    )
    assert (changed.title, changed.model, changed.system_prompt) == ("b", "xai:grok-4", "Terse.")


async def test_delete_cascades_to_messages(store: ConversationStore, database: Database) -> None:
    from sqlalchemy import func, select

    from easel.storage.tables import Message

    conv = await store.create_conversation(owner_id=ME, model="m")
    keep = await store.create_conversation(owner_id=ME, model="m")
    for c in (conv, keep):
        await store.add_message(owner_id=ME, conversation_id=c.id, role="user", content="x")
        await store.add_message(owner_id=ME, conversation_id=c.id, role="assistant", content="y")
    await store.delete_conversation(owner_id=ME, conversation_id=conv.id)

    with pytest.raises(NotFound):
        await store.get_conversation(owner_id=ME, conversation_id=conv.id)
    with pytest.raises(NotFound):
        await store.delete_conversation(owner_id=ME, conversation_id=conv.id)
    async with database.session() as session:
        counts = dict(
            (
                await session.execute(select(Message.conversation_id, func.count()).group_by(Message.conversation_id))
            ).all()
        )
    assert counts == {keep.id: 2}


async def test_another_owner_sees_nothing(store: ConversationStore, other_owner: str) -> None:
    conv = await store.create_conversation(owner_id=ME, model="m", title="private")
    msg = await store.add_message(owner_id=ME, conversation_id=conv.id, role="user", content="secret")

    with pytest.raises(NotFound):
        await store.get_conversation(owner_id=other_owner, conversation_id=conv.id)
    with pytest.raises(NotFound):
        await store.add_message(owner_id=other_owner, conversation_id=conv.id, role="user", content="x")
    with pytest.raises(NotFound):
        await store.update_message(owner_id=other_owner, message_id=msg.id, content="defaced")
    with pytest.raises(NotFound):
        await store.rename_conversation(owner_id=other_owner, conversation_id=conv.id, title="mine now")
    with pytest.raises(NotFound):
        await store.delete_conversation(owner_id=other_owner, conversation_id=conv.id)
    assert await store.list_conversations(owner_id=other_owner) == ([], 0)
    assert await store.last_conversation(owner_id=other_owner) is None

    got = await store.get_conversation(owner_id=ME, conversation_id=conv.id)
    assert got.title == "private" and [m.content for m in got.messages] == ["secret"]


async def test_missing_ids_are_not_found(store: ConversationStore) -> None:
    with pytest.raises(NotFound) as info:
        await store.get_conversation(owner_id=ME, conversation_id="conv_missing")
    assert info.value.status_code == 404
    with pytest.raises(NotFound):
        await store.update_message(owner_id=ME, message_id="msg_missing", content="x")
