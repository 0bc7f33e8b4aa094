"""VoteStore on SQLite and PostgreSQL: votes stored together, listed per owner and task, excludable."""

from __future__ import annotations

from easel.storage.db import Database
from easel.storage.tables import LOCAL_ACCOUNT_ID, Account
from easel.storage.votes import NewVote, VoteStore


def _vote(a: str, b: str, outcome: str = "a", *, task: str = "chat", source_id: str = "bat_1") -> NewVote:
    return NewVote(task=task, model_a=a, model_b=b, outcome=outcome, source="battle",  # type: ignore[arg-type]
                   source_id=source_id)


async def test_votes_are_listed_per_task_oldest_first(database: Database) -> None:
    store = VoteStore(database)
    await store.add(owner_id=LOCAL_ACCOUNT_ID, votes=[_vote("x:one", "x:two", "a", source_id="s1")])
    await store.add(owner_id=LOCAL_ACCOUNT_ID, votes=[_vote("x:two", "x:three", "tie", source_id="s2")])
    await store.add(owner_id=LOCAL_ACCOUNT_ID, votes=[_vote("img:a", "img:b", "b", task="image", source_id="s3")])
    chat = await store.list(owner_id=LOCAL_ACCOUNT_ID, task="chat")
    assert [(v.model_a, v.model_b, v.outcome) for v in chat] == [("x:one", "x:two", "a"), ("x:two", "x:three", "tie")]
    assert [v.outcome for v in await store.list(owner_id=LOCAL_ACCOUNT_ID, task="image")] == ["b"]
    assert len(await store.list(owner_id=LOCAL_ACCOUNT_ID)) == 3


async def test_excluded_votes_leave_the_list_until_included_again(database: Database) -> None:
    store = VoteStore(database)
    await store.add(owner_id=LOCAL_ACCOUNT_ID, votes=[_vote("x:one", "x:two", source_id="leaky"),
                                                      _vote("x:one", "x:three", source_id="leaky")])
    await store.add(owner_id=LOCAL_ACCOUNT_ID, votes=[_vote("x:two", "x:three", source_id="clean")])
    assert await store.set_excluded(owner_id=LOCAL_ACCOUNT_ID, source_id="leaky", excluded=True) == 2
    assert [v.source_id for v in await store.list(owner_id=LOCAL_ACCOUNT_ID)] == ["clean"]
    assert len(await store.list(owner_id=LOCAL_ACCOUNT_ID, include_excluded=True)) == 3
    await store.set_excluded(owner_id=LOCAL_ACCOUNT_ID, source_id="leaky", excluded=False)
    assert len(await store.list(owner_id=LOCAL_ACCOUNT_ID)) == 3


async def test_another_account_sees_none_of_them(database: Database) -> None:
    async with database.session() as session, session.begin():
        session.add(Account(id="acct_other", name="other"))
    store = VoteStore(database)
    await store.add(owner_id=LOCAL_ACCOUNT_ID, votes=[_vote("x:one", "x:two")])
    assert await store.list(owner_id="acct_other") == []
    assert await store.for_source(owner_id="acct_other", source_id="bat_1") == []
    assert len(await store.for_source(owner_id=LOCAL_ACCOUNT_ID, source_id="bat_1")) == 1
