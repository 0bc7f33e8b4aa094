"""Answers a crash cut off, and turns that must not overlap (SQLite and PostgreSQL).

A chat answer is marked with the process writing it. Rows are written here as another process
would have left them: a writer whose process is gone (a real process that has exited), a
writer on another host (a live replica, as far as we can tell), and one that started long
ago. Studio start-up and reading a comparison or battle mark the cut-off ones failed; the
others keep running. A follow-up is refused (409) while an earlier answer is being written.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from easel.api.deps import Services
from easel.errors import Conflict
from easel.services.compare import TurnRun
from easel.services.compare_run import ColumnDelta
from easel.services.interrupted import INTERRUPTED_MESSAGE
from easel.storage.battles import Answer, BattleStore
from easel.storage.comparisons import ComparisonStore, NewAnswer
from easel.storage.tables import utcnow
from easel.storage.tables_compare import ComparisonAnswer
from easel.studio import open_studio
from tests.api.conftest import Fakes, fakes, studio_settings  # noqa: F401  (fixture re-export)

OWNER = "acct_local"
DEADLINE = 30
MODELS = ["fake:fake-echo", "fake:fake-reasoner", "xai:grok-4", "fake:fake-endless"]
ELSEWHERE = "another-host:4242:beef"  # a replica on another host: its life cannot be checked from here


def dead_writer() -> str:
    """The writer id of a real process on this host that has exited."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return f"{socket.gethostname()}:{int(ended.stdout)}:dead"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fakes: Fakes) -> object:  # noqa: F811
    return studio_settings(tmp_path, database_url, fakes)


@pytest.fixture
async def services(settings: object) -> AsyncIterator[Services]:
    async with open_studio(settings) as opened:  # type: ignore[arg-type]
        yield opened


async def left_running(store: ComparisonStore, writers: list[str], *, old_columns: tuple[int, ...] = ()) -> str:
    """A comparison whose one turn has a running answer per writer, as processes would leave it."""
    record = await store.create(owner_id=OWNER, task="chat", models=MODELS[: len(writers)], title="cut off")
    turn = await store.add_turn(owner_id=OWNER, comparison_id=record.id, prompt="one", options={},
                                answers=[NewAnswer(column=i, model=m) for i, m in enumerate(MODELS[: len(writers)])])
    async with store.database.session() as session, session.begin():
        for answer, writer in zip(turn.answers, writers, strict=True):
            started = utcnow() - timedelta(hours=2) if answer.column in old_columns else answer.created_at
            await session.execute(update(ComparisonAnswer).where(ComparisonAnswer.id == answer.id)
                                  .values(writer=writer, created_at=started))
    return record.id


async def test_start_up_fails_answers_whose_writer_is_gone_and_keeps_live_ones(services: Services,
                                                                               settings: object) -> None:
    store = services.compare.store
    comparison_id = await left_running(store, [dead_writer(), ELSEWHERE, ELSEWHERE],
                                       old_columns=(2,))
    battles = BattleStore(services.database)
    battle = await battles.create(owner_id=OWNER, task="chat", prompt="hi", model_a=MODELS[0], model_b=MODELS[1],
                                  answers=(Answer(writer=dead_writer()), Answer(writer=ELSEWHERE)))

    async with open_studio(settings):  # type: ignore[arg-type]  # a restart, beside a replica still up
        pass

    answers = (await store.get(owner_id=OWNER, comparison_id=comparison_id)).turns[0].answers
    assert [a.status for a in answers] == ["failed", "running", "failed"]
    assert answers[0].error == INTERRUPTED_MESSAGE and answers[0].error_code == "interrupted"
    assert answers[2].error == INTERRUPTED_MESSAGE  # another host's, but older than any answer runs
    stored = await battles.get(owner_id=OWNER, battle_id=battle.id)
    assert stored.answer_a.status == "failed" and stored.answer_a.error == INTERRUPTED_MESSAGE
    assert stored.answer_b.status == "pending"


async def test_reading_fails_a_cut_off_answer_and_the_comparison_can_go_on(services: Services) -> None:
    comparison_id = await left_running(services.compare.store, [dead_writer(), services.compare.writers.own])
    view = await services.compare.get(owner_id=OWNER, comparison_id=comparison_id)
    cut, mine = view.turns[0].answers
    assert (cut.status, cut.error, mine.status) == ("failed", INTERRUPTED_MESSAGE, "running")
    assert "writer" not in view.model_dump(mode="json")["turns"][0]["answers"][0]  # internal, never shown

    with pytest.raises(Conflict):  # this process's own answer is still being written
        await services.compare.follow_up(owner_id=OWNER, comparison_id=comparison_id, prompt="two")
    await services.compare.store.finish_answer(answer_id=mine.id, status="complete", content="done")
    run = await services.compare.follow_up(owner_id=OWNER, comparison_id=comparison_id, prompt="two")
    async with asyncio.timeout(DEADLINE):
        [_ async for _ in run.events]
    assert run.turn.seq == 2


async def test_reading_a_battle_fails_its_cut_off_answer(services: Services) -> None:
    battle = await services.arena.battles.create(
        owner_id=OWNER, task="chat", prompt="hi", model_a=MODELS[0], model_b=MODELS[1],
        answers=(Answer(writer=dead_writer()), Answer(writer=services.arena.writers.own)))
    read = await services.arena.get(owner_id=OWNER, battle_id=battle.id)
    assert read.answer_a.status == "failed" and read.answer_a.error_code == "interrupted"
    assert read.answer_b.status == "pending"


async def test_a_follow_up_is_refused_while_a_turn_is_being_written(services: Services) -> None:
    run = await services.compare.start(owner_id=OWNER, models=["fake:fake-echo", "fake:fake-endless"], prompt="one")
    comparison_id = run.comparison.id
    async with asyncio.timeout(DEADLINE):
        async for event in run.events:
            if isinstance(event, ColumnDelta) and event.column == 1:
                break  # the endless column is being written
        refused = await asyncio.gather(*(services.compare.follow_up(owner_id=OWNER, comparison_id=comparison_id,
                                                                    prompt=p) for p in ("two", "three")),
                                       return_exceptions=True)
        assert all(isinstance(r, Conflict) and r.code == "turn_running" for r in refused), refused
        await run.events.aclose()  # type: ignore[attr-defined]  # the endless answer is stored as stopped


async def test_two_follow_ups_at_once_give_one_turn_and_one_conflict(services: Services) -> None:
    run = await services.compare.start(owner_id=OWNER, models=["fake:fake-echo", "fake:fake-reasoner"], prompt="one")
    async with asyncio.timeout(DEADLINE):
        [_ async for _ in run.events]
        both = await asyncio.gather(*(services.compare.follow_up(owner_id=OWNER, comparison_id=run.comparison.id,
                                                                 prompt=p) for p in ("two", "three")),
                                    return_exceptions=True)
        [started] = [r for r in both if isinstance(r, TurnRun)]
        assert [type(r) for r in both if not isinstance(r, TurnRun)] == [Conflict]
        [_ async for _ in started.events]
    view = await services.compare.get(owner_id=OWNER, comparison_id=run.comparison.id)
    assert [t.seq for t in view.turns] == [1, 2]
    assert all(a.status == "complete" for t in view.turns for a in t.answers)
