"""The compare service and its store, on SQLite and PostgreSQL: columns run at once and end on their
own, a closed stream stops the chat columns still answering (stored as stopped), turns are numbered
per comparison, another owner sees nothing, and a re-pick replaces the comparison's votes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from easel.api.deps import Services
from easel.errors import Conflict, NotFound
from easel.services.compare_run import ColumnDelta, ColumnDone, ColumnEvent, ColumnFailed, Emit, run_columns
from easel.storage.comparisons import ComparisonStore, NewAnswer
from easel.storage.db import Database
from easel.storage.tables import Account
from easel.storage.votes import VoteStore
from easel.studio import open_studio
from tests.api.conftest import Fakes, fakes, studio_settings  # noqa: F401  (fixture re-export)

OWNER = "acct_local"
DEADLINE = 30


@pytest.fixture
async def services(tmp_path: Path, database_url: str, fakes: Fakes) -> AsyncIterator[Services]:  # noqa: F811
    async with open_studio(studio_settings(tmp_path, database_url, fakes)) as opened:
        yield opened


async def test_a_column_that_never_ends_holds_up_no_other_column() -> None:
    release = asyncio.Event()

    async def quick(emit: Emit) -> None:
        emit(ColumnDelta(0, "fast"))

    async def stuck(emit: Emit) -> None:
        await release.wait()
        emit(ColumnDelta(1, "late"))

    async def broken(emit: Emit) -> None:
        raise RuntimeError("a bug in one column")

    seen: list[ColumnEvent] = []
    stream = run_columns([quick, stuck, broken])
    async with asyncio.timeout(DEADLINE):
        seen.append(await anext(stream))
        assert seen == [ColumnDelta(0, "fast")]  # while column 1 is still waiting
        release.set()
        seen.extend([event async for event in stream])
    assert seen == [ColumnDelta(0, "fast"), ColumnDelta(1, "late")]


async def test_closing_the_stream_stops_the_chat_columns_and_stores_them_as_stopped(services: Services) -> None:
    run = await services.compare.start(owner_id=OWNER, models=["fake:fake-echo", "fake:fake-endless"], prompt="go")
    done: list[int] = []
    async with asyncio.timeout(DEADLINE):
        async for event in run.events:
            if isinstance(event, ColumnDone):
                done.append(event.answer.column)
            if isinstance(event, ColumnDelta) and event.column == 1 and done:
                break  # the endless column is streaming, the echo has ended: leave
        await run.events.aclose()  # type: ignore[attr-defined]
    view = await services.compare.get(owner_id=OWNER, comparison_id=run.comparison.id)
    echo, endless = view.turns[0].answers
    assert echo.status == "complete" and echo.content == "You said: go"
    assert endless.status == "failed" and endless.error_code == "stopped"
    assert endless.content.startswith("You said:")  # what was said before the stop is kept


async def test_a_failing_column_reports_its_own_error(services: Services) -> None:
    run = await services.compare.start(owner_id=OWNER, models=["fake:fake-error-503", "fake:fake-echo"],
                                       prompt="hi")
    async with asyncio.timeout(DEADLINE):
        ends = [e for e in [event async for event in run.events] if isinstance(e, ColumnDone | ColumnFailed)]
    failed = next(e for e in ends if isinstance(e, ColumnFailed))
    assert failed.answer.column == 0 and failed.error.status_code == 503
    assert [e.answer.column for e in ends if isinstance(e, ColumnDone)] == [1]


async def test_turns_are_numbered_per_comparison_and_owned(database: Database) -> None:
    async with database.session() as session, session.begin():
        session.add(Account(id="acct_other", name="other"))
    store = ComparisonStore(database)
    record = await store.create(owner_id=OWNER, task="chat", models=["a:x", "b:y"], title="t")
    answers = [NewAnswer(column=0, model="a:x"), NewAnswer(column=1, model="b:y")]
    first = await store.add_turn(owner_id=OWNER, comparison_id=record.id, prompt="one", options={}, answers=answers)
    for answer in first.answers:
        await store.finish_answer(answer_id=answer.id, status="complete", content="ok")
    second = await store.add_turn(owner_id=OWNER, comparison_id=record.id, prompt="two", options={"seed": 1},
                                  answers=answers)
    assert (first.seq, second.seq) == (1, 2)
    await store.finish_answer(answer_id=second.answers[1].id, status="complete", content="done", latency_ms=5)
    with pytest.raises(Conflict) as refused:  # column 0 of turn 2 is still being written
        await store.add_turn(owner_id=OWNER, comparison_id=record.id, prompt="three", options={}, answers=answers)
    assert refused.value.status_code == 409 and refused.value.code == "turn_running"
    detail = await store.get(owner_id=OWNER, comparison_id=record.id)
    assert [t.prompt for t in detail.turns] == ["one", "two"]
    assert detail.turns[1].answers[1].content == "done" and detail.turns[1].options == {"seed": 1}
    for call in (store.get(owner_id="acct_other", comparison_id=record.id),
                 store.add_turn(owner_id="acct_other", comparison_id=record.id, prompt="x", options={}, answers=[]),
                 store.delete(owner_id="acct_other", comparison_id=record.id)):
        with pytest.raises(NotFound):
            await call
    assert (await store.list(owner_id="acct_other"))[1] == 0
    await store.delete(owner_id=OWNER, comparison_id=record.id)
    assert (await store.list(owner_id=OWNER))[1] == 0


async def test_a_re_pick_replaces_only_this_comparisons_votes(services: Services) -> None:
    models = ["fake:fake-echo", "xai:grok-4", "fake:fake-reasoner"]
    runs = [await services.compare.start(owner_id=OWNER, models=models, prompt=p) for p in ("one", "two")]
    for run in runs:
        async with asyncio.timeout(DEADLINE):
            [_ async for _ in run.events]
    first, other = (run.comparison.id for run in runs)
    await services.compare.vote(owner_id=OWNER, comparison_id=other, column=2)
    await services.compare.vote(owner_id=OWNER, comparison_id=first, column=0)
    turn, again = await services.compare.vote(owner_id=OWNER, comparison_id=first, column=1)
    assert turn == 1
    assert {(v.model_a, v.model_b) for v in again} == {("xai:grok-4", "fake:fake-echo"),
                                                       ("xai:grok-4", "fake:fake-reasoner")}
    votes = VoteStore(services.database)
    assert {(v.model_a, v.model_b) for v in await votes.for_source(owner_id=OWNER, source_id=first)} == {
        ("xai:grok-4", "fake:fake-echo"), ("xai:grok-4", "fake:fake-reasoner")}
    assert len(await votes.for_source(owner_id=OWNER, source_id=other)) == 2
