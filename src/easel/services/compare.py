"""Compare: one prompt (or one chat history) on 2 to 8 models of one task, side by side.

`start` checks everything up front (the number of models, each one resolves, all serve the
same task, none twice, each is usable with this request), so a bad comparison is a 4xx and
nothing is stored. It then stores the comparison and its first turn and answers a `TurnRun`:
the stored turn plus the merged event stream of its columns (`compare_run`). `follow_up`
sends a new prompt to every column, each with its own history: the shared prompts and that
column's own earlier answers. Turns of one comparison are serialised: a per-comparison lock in
this process, and the store refuses a turn (409) while an earlier chat answer is running, so
no follow-up ever reads a half-written answer. A chat answer a crash cut off (its writer
process is gone, see `interrupted`) is marked failed at start-up and whenever its comparison
is read, so it never blocks follow-ups or shows "running" forever. `vote` records the best answer of a turn as pairwise votes for
the leaderboard; `to_conversation` turns one column into a normal conversation.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakValueDictionary

from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry
from easel.errors import EaselError, InvalidRequest
from easel.jobs import JobService
from easel.services.chat import ChatService, PreparedChat
from easel.services.compare_run import (
    ColumnAnswer,
    ColumnEvent,
    ColumnRunner,
    image_answer,
    run_chat_column,
    run_columns,
    run_image_column,
)
from easel.services.conversations import TurnOptions
from easel.services.images import ImageService
from easel.services.interrupted import INTERRUPTED_CODE, INTERRUPTED_MESSAGE, Writers
from easel.storage.assets import AssetStore
from easel.storage.comparisons import (
    AnswerRecord,
    ComparisonDetail,
    ComparisonRecord,
    ComparisonStore,
    CompareTask,
    NewAnswer,
    TurnRecord,
)
from easel.storage.conversations import ConversationDetail, ConversationStore
from easel.storage.votes import NewVote, VoteRecord, VoteStore
from easel.tasks.chat import ChatMessage, ChatRequest, Usage
from easel.tasks.image import ImageRequest

MIN_MODELS = 2
MAX_MODELS = 8
TITLE_LENGTH = 60
TASKS: tuple[CompareTask, ...] = ("chat", "image")


class TurnView(TurnRecord):
    answers: list[ColumnAnswer] = []  # type: ignore[assignment]


class ComparisonView(ComparisonRecord):
    """A comparison as shown and reopened: every turn with every column's answer."""

    turns: list[TurnView]


@dataclass(slots=True)
class TurnRun:
    """A started turn: what was stored, and its columns' events (iterate to run the chat columns)."""

    comparison: ComparisonRecord
    turn: TurnRecord
    events: AsyncIterator[ColumnEvent]


class CompareService:
    def __init__(self, *, catalog: Catalog, chat: ChatService, images: ImageService, jobs: JobService,
                 assets: AssetStore, store: ComparisonStore, conversations: ConversationStore,
                 votes: VoteStore, writers: Writers | None = None) -> None:
        self.catalog = catalog
        self.chat = chat
        self.images = images
        self.jobs = jobs
        self.assets = assets
        self.store = store
        self.conversations = conversations
        self.votes = votes
        self.writers = writers or Writers()
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    def _lock(self, comparison_id: str) -> asyncio.Lock:
        lock = self._locks.get(comparison_id)
        if lock is None:
            lock = self._locks[comparison_id] = asyncio.Lock()
        return lock

    # -- answers a crash cut off -------------------------------------------------------

    async def _fail_gone(self, answers: Sequence[AnswerRecord]) -> int:
        gone = [a.id for a in answers if self.writers.gone(a.writer, a.created_at)]
        return await self.store.fail_running(answer_ids=gone, error=INTERRUPTED_MESSAGE, error_code=INTERRUPTED_CODE)

    async def recover_interrupted(self) -> int:
        """Mark failed every running chat answer whose writer is gone; answers how many (run at start-up)."""
        return await self._fail_gone(await self.store.running_chat_answers())

    async def _detail(self, owner_id: str, comparison_id: str) -> ComparisonDetail:
        """The stored comparison, with answers a crash cut off marked failed first."""
        detail = await self.store.get(owner_id=owner_id, comparison_id=comparison_id)
        running = [a for t in detail.turns for a in t.answers if a.status == "running" and a.job_id is None]
        if running and await self._fail_gone(running):
            detail = await self.store.get(owner_id=owner_id, comparison_id=comparison_id)
        return detail

    # -- checks ----------------------------------------------------------------

    def resolve_models(self, models: Sequence[str], task: CompareTask | None) -> tuple[CompareTask, list[ModelEntry]]:
        """The models' catalog entries and their shared task; every refusal names the model at fault."""
        if not MIN_MODELS <= len(models) <= MAX_MODELS:
            raise InvalidRequest(f"A comparison takes {MIN_MODELS} to {MAX_MODELS} models; got {len(models)}.",
                                 param="models", code="invalid_value")
        if task is None:
            first = self._resolve(models[0], None, 0)
            if first.task not in TASKS:
                raise InvalidRequest(f"Model '{first.id}' serves the {first.task} task; comparisons are for chat "
                                     "or image models.", param="models[0]", code="wrong_task")
            task = first.task  # type: ignore[assignment]
        entries: list[ModelEntry] = []
        for index, name in enumerate(models):
            entry = self._resolve(name, task, index)
            if any(e.id == entry.id for e in entries):
                raise InvalidRequest(f"Model '{entry.id}' is listed twice; compare different models.",
                                     param=f"models[{index}]", code="duplicate_model")
            entries.append(entry)
        assert task is not None
        return task, entries

    def _resolve(self, name: str, task: CompareTask | None, index: int) -> ModelEntry:
        try:
            return self.catalog.resolve(name, task=task)
        except EaselError as exc:
            exc.param = f"models[{index}]"
            raise

    def _prepare_chat(self, entries: Sequence[ModelEntry], histories: Sequence[list[ChatMessage]],
                      options: TurnOptions) -> list[PreparedChat]:
        fields = options.model_dump(exclude_none=True)
        prepared = []
        for index, (entry, history) in enumerate(zip(entries, histories, strict=True)):
            try:
                prepared.append(self.chat.prepare(ChatRequest(model=entry.id, messages=history, **fields)))
            except EaselError as exc:
                exc.param = exc.param if exc.param not in (None, "model") else f"models[{index}]"
                raise
        return prepared

    def _prepare_images(self, entries: Sequence[ModelEntry], prompt: str,
                        options: dict[str, Any]) -> list[ImageRequest]:
        """One checked request per model. A setting one model does not take (a seed, a size) is left out
        for that model only, so each column runs with what its model can do; the images' stored
        settings show what each one actually used."""
        requests = []
        for entry in entries:
            fields = {**options, "model": entry.id, "prompt": prompt}
            while True:
                try:
                    _, checked = self.images.prepare_image(ImageRequest.model_validate(fields))
                    break
                except EaselError as exc:
                    if exc.code != "unsupported_parameter" or exc.param not in options or exc.param not in fields:
                        raise
                    del fields[exc.param]
            requests.append(checked)
        return requests

    # -- comparisons -------------------------------------------------------------

    async def start(self, *, owner_id: str, models: Sequence[str], prompt: str | None = None,
                    messages: Sequence[ChatMessage] | None = None, task: CompareTask | None = None,
                    system_prompt: str | None = None, options: dict[str, Any] | None = None) -> TurnRun:
        """Check, store and start a comparison's first turn."""
        task, entries = self.resolve_models(models, task)
        history: list[dict[str, Any]] = []
        if messages:
            if task != "chat":
                raise InvalidRequest("A chat history can only be compared on chat models.", param="messages")
            if prompt is not None or messages[-1].role != "user":
                raise InvalidRequest("Give either `prompt` or `messages` ending with a user message.",
                                     param="messages")
            prompt = messages[-1].text()
            history = [m.model_dump(include={"role", "content"}) for m in messages[:-1]]
        if not prompt or not prompt.strip():
            raise InvalidRequest("The prompt is empty.", param="prompt")
        title = textwrap.shorten(" ".join(prompt.split()), TITLE_LENGTH, placeholder="…")
        prefix = _prefix(system_prompt, history)
        new_turn = await self._open_turn(owner_id, task, entries, [[*prefix] for _ in entries], prompt,
                                         dict(options or {}))
        record = await self.store.create(owner_id=owner_id, task=task, models=[e.id for e in entries], title=title,
                                         system_prompt=system_prompt, history=history or None)
        return await new_turn(record)

    async def follow_up(self, *, owner_id: str, comparison_id: str, prompt: str,
                        options: dict[str, Any] | None = None) -> TurnRun:
        """A new prompt for every column, each reading its own history."""
        if not prompt.strip():
            raise InvalidRequest("The prompt is empty.", param="prompt")
        async with self._lock(comparison_id):
            detail = await self._detail(owner_id, comparison_id)
            entries = [self.catalog.resolve(model, task=detail.task) for model in detail.models]
            prefix = _prefix(detail.system_prompt, detail.history or [])
            histories = [[*prefix, *_column_history(detail.turns, column)] for column in range(len(entries))]
            new_turn = await self._open_turn(owner_id, detail.task, entries, histories, prompt, dict(options or {}))
            return await new_turn(detail)

    async def _open_turn(self, owner_id: str, task: CompareTask, entries: Sequence[ModelEntry],
                         histories: Sequence[list[ChatMessage]], prompt: str, options: dict[str, Any]) -> Any:
        """Check the turn for every column (raising before anything is stored), then answer a function
        that stores it for a comparison and starts it."""
        if task == "chat":
            turn_options = TurnOptions.model_validate(options)
            prepared = self._prepare_chat(entries, [[*h, ChatMessage(role="user", content=prompt)] for h in histories],
                                          turn_options)

            async def open_chat(comparison: ComparisonRecord) -> TurnRun:
                turn = await self.store.add_turn(
                    owner_id=owner_id, comparison_id=comparison.id, prompt=prompt,
                    options=turn_options.model_dump(exclude_none=True), writer=self.writers.own,
                    answers=[NewAnswer(column=i, model=e.id) for i, e in enumerate(entries)])
                runners = [self._chat_runner(owner_id, answer, p) for answer, p in zip(turn.answers, prepared,
                                                                                      strict=True)]
                return TurnRun(comparison, turn, run_columns(runners))

            return open_chat
        requests = self._prepare_images(entries, prompt, options)

        async def open_images(comparison: ComparisonRecord) -> TurnRun:
            jobs = [(await self.images.submit_image(owner_id=owner_id, request=r))[0] for r in requests]
            turn = await self.store.add_turn(
                owner_id=owner_id, comparison_id=comparison.id, prompt=prompt, options=options,
                answers=[NewAnswer(column=i, model=job.model, job_id=job.id) for i, job in enumerate(jobs)])
            runners = [self._image_runner(owner_id, answer) for answer in turn.answers]
            return TurnRun(comparison, turn, run_columns(runners))

        return open_images

    def _chat_runner(self, owner_id: str, answer: Any, prepared: PreparedChat) -> ColumnRunner:
        return lambda emit: run_chat_column(chat=self.chat, store=self.store, owner_id=owner_id, answer=answer,
                                           prepared=prepared, emit=emit)

    def _image_runner(self, owner_id: str, answer: Any) -> ColumnRunner:
        return lambda emit: run_image_column(jobs=self.jobs, assets=self.assets, owner_id=owner_id, answer=answer,
                                             emit=emit)

    async def get(self, *, owner_id: str, comparison_id: str) -> ComparisonView:
        detail = await self._detail(owner_id, comparison_id)
        turns = []
        for turn in detail.turns:
            answers = [await image_answer(a, jobs=self.jobs, assets=self.assets, owner_id=owner_id)
                       if detail.task == "image" else ColumnAnswer(**a.model_dump()) for a in turn.answers]
            turns.append(TurnView(**turn.model_dump(exclude={"answers"}), answers=answers))
        return ComparisonView(**detail.model_dump(exclude={"turns"}), turns=turns)

    async def list(self, *, owner_id: str, limit: int = 20, offset: int = 0,
                   task: CompareTask | None = None) -> tuple[list[ComparisonRecord], int]:
        return await self.store.list(owner_id=owner_id, limit=limit, offset=offset, task=task)

    async def delete(self, *, owner_id: str, comparison_id: str) -> None:
        await self.store.delete(owner_id=owner_id, comparison_id=comparison_id)

    # -- picking the best, continuing in chat --------------------------------------

    async def vote(self, *, owner_id: str, comparison_id: str, column: int,
                   turn: int | None = None) -> tuple[int, list[VoteRecord]]:
        """Pick a turn's best answer (the last turn by default): one vote "best beat other" per other
        complete answer. Picking again replaces the turn's earlier votes. Answers the turn's number
        and its votes."""
        view = await self.get(owner_id=owner_id, comparison_id=comparison_id)
        if not view.turns:
            raise InvalidRequest("This comparison has no answers to pick from yet.", param="turn")
        picked = view.turns[-1] if turn is None else next((t for t in view.turns if t.seq == turn), None)
        if picked is None:
            raise InvalidRequest(f"No turn {turn}; this comparison has turns 1 to {len(view.turns)}.", param="turn")
        if not 0 <= column < len(view.models):
            raise InvalidRequest(f"No column {column}; columns are 0 to {len(view.models) - 1}.", param="column")
        if picked.answers[column].status != "complete":
            raise InvalidRequest(f"Column {column} ({view.models[column]}) has no complete answer to pick.",
                                 param="column", code="answer_not_complete")
        await self.store.set_best(owner_id=owner_id, comparison_id=comparison_id, seq=picked.seq, column=column)
        picked = picked.model_copy(update={"best_column": column})
        others = [vote for t in view.turns if t.seq != picked.seq for vote in _votes_of(view.task, t, comparison_id)]
        mine = _votes_of(view.task, picked, comparison_id)
        # A comparison the leaderboard was told to leave out stays left out after a re-pick.
        excluded = any(v.excluded for v in await self.votes.for_source(owner_id=owner_id, source_id=comparison_id))
        votes = [v.model_copy(update={"excluded": excluded}) for v in [*mine, *others]]
        stored = await self.votes.replace(owner_id=owner_id, source_id=comparison_id, votes=votes)
        return picked.seq, stored[: len(mine)]

    async def to_conversation(self, *, owner_id: str, comparison_id: str, column: int) -> ConversationDetail:
        """A normal conversation with this column's model: the shared prompts and this column's answers."""
        detail = await self._detail(owner_id, comparison_id)
        if detail.task != "chat":
            raise InvalidRequest("Only a chat comparison can continue as a conversation.", param="comparison_id")
        if not 0 <= column < len(detail.models):
            raise InvalidRequest(f"No column {column}; columns are 0 to {len(detail.models) - 1}.", param="column")
        store = self.conversations
        conversation = await store.create_conversation(owner_id=owner_id, model=detail.models[column],
                                                       title=detail.title, system_prompt=detail.system_prompt)
        for message in detail.history or []:
            await store.add_message(owner_id=owner_id, conversation_id=conversation.id, role=message["role"],
                                    content=ChatMessage.model_validate(message).text())
        for turn in detail.turns:
            await store.add_message(owner_id=owner_id, conversation_id=conversation.id, role="user",
                                    content=turn.prompt)
            answer = turn.answers[column]
            if answer.status == "running":
                continue
            await store.add_message(
                owner_id=owner_id, conversation_id=conversation.id, role="assistant", content=answer.content,
                reasoning=answer.reasoning, model=answer.model, status=answer.status, error=answer.error,
                finish_reason=answer.finish_reason, cost=answer.cost, latency_ms=answer.latency_ms,
                ttft_ms=answer.ttft_ms, usage=_usage(answer))
        return await store.get_conversation(owner_id=owner_id, conversation_id=conversation.id)


def _prefix(system_prompt: str | None, history: Sequence[dict[str, Any]]) -> list[ChatMessage]:
    messages = [ChatMessage(role="system", content=system_prompt)] if system_prompt else []
    return messages + [ChatMessage.model_validate(m) for m in history]


def _column_history(turns: Sequence[TurnRecord], column: int) -> list[ChatMessage]:
    """The shared prompts and this column's own complete answers (failed ones are never sent back)."""
    messages = []
    for turn in turns:
        messages.append(ChatMessage(role="user", content=turn.prompt))
        answer = turn.answers[column]
        if answer.status == "complete":
            messages.append(ChatMessage(role="assistant", content=answer.content))
    return messages


def _votes_of(task: CompareTask, turn: TurnView, comparison_id: str) -> list[NewVote]:
    """A turn's pick as pairwise votes: the best answer beat every other complete one."""
    if turn.best_column is None:
        return []
    best = turn.answers[turn.best_column]
    return [NewVote(task=task, model_a=best.model, model_b=other.model, outcome="a", source="comparison",
                    source_id=comparison_id)
            for other in turn.answers if other.column != best.column and other.status == "complete"]


def _usage(answer: ColumnAnswer) -> Usage | None:
    fields = {name: getattr(answer, name) for name in ("prompt_tokens", "completion_tokens", "reasoning_tokens")}
    return None if all(v is None for v in fields.values()) else Usage(**{k: v or 0 for k, v in fields.items()})
