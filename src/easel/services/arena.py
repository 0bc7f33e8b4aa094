"""The arena: blind battles. One prompt, two models drawn at random from a pool, answers shown
as A and B, one vote, then the names.

Chat battles stream both answers at once through `ChatService`, each through a
`SentenceFilter` that drops self-introductions before they are shown; an answer that still
names its own model flags the battle (`leaked`) and its vote is stored excluded. Image
battles are two `ImageService` jobs; their pictures are served by the battle with the
metadata that names the model removed. Nothing a client sees before the vote carries a model
name: not the body, not an id, not an error message (only its code). A chat answer a crash
left pending (its writer process is gone, see `interrupted`) is marked failed at start-up and
whenever its battle is read, so the battle says it failed instead of running forever.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry
from easel.errors import Conflict, EaselError, InvalidRequest, NotFound
from easel.providers.base import ProviderRegistry
from easel.services.arena_leaks import SentenceFilter, identity_terms
from easel.services.chat import ChatService, PreparedChat
from easel.services.images import ImageService
from easel.services.interrupted import INTERRUPTED_CODE, INTERRUPTED_MESSAGE, Writers
from easel.storage.assets import AssetStore
from easel.storage.battles import Answer, BattleRecord, BattleStore, Side
from easel.storage.votes import VoteOutcome, VoteTask
from easel.tasks.chat import ChatMessage, ChatRequest, TextDelta
from easel.tasks.image import ImageRequest

SIDES: tuple[Side, Side] = ("a", "b")
CHAT_ENDPOINT = "arena"


@dataclass(frozen=True, slots=True)
class AnswerDelta:
    side: Side
    text: str


@dataclass(frozen=True, slots=True)
class AnswerFinished:
    side: Side
    answer: Answer


BattleEvent = AnswerDelta | AnswerFinished


class ArenaService:
    def __init__(self, *, catalog: Catalog, providers: ProviderRegistry, chat: ChatService, images: ImageService,
                 assets: AssetStore, battles: BattleStore, rng: random.Random | None = None,
                 writers: Writers | None = None) -> None:
        self.catalog = catalog
        self.providers = providers
        self.chat = chat
        self.images = images
        self.assets = assets
        self.battles = battles
        # SystemRandom by default: the draw must not be guessable; tests pass a seeded Random.
        self.rng = rng or random.SystemRandom()
        self.writers = writers or Writers()

    # -- the pool ------------------------------------------------------------------

    def _unusable_reason(self, entry: ModelEntry) -> str | None:
        provider = self.providers.get(entry.provider)
        if provider is None:
            return f"its provider '{entry.provider}' is not installed"
        availability = provider.availability(entry)
        return None if availability.usable else availability.reason or "not usable now"

    def usable(self, task: VoteTask) -> list[ModelEntry]:
        return [entry for entry in self.catalog.list(task=task) if self._unusable_reason(entry) is None]

    def pool(self, task: VoteTask, models: Sequence[str] | None = None) -> list[ModelEntry]:
        """The usable, distinct models a battle draws from; 400 naming why when fewer than two."""
        if models is None:
            usable = self.usable(task)
            if len(usable) < 2:
                raise InvalidRequest(f"A {task} battle needs two usable {task} models; {len(usable)} can be called "
                                     "now. Set a provider key or install a local model.", param="pool",
                                     code="pool_too_small")
            return usable
        entries: dict[str, ModelEntry] = {}
        refused: list[str] = []
        for name in models:
            entry = self.catalog.resolve(name, task=task)
            reason = self._unusable_reason(entry)
            if reason is not None:
                refused.append(f"'{entry.id}' ({reason})")
            else:
                entries.setdefault(entry.id, entry)
        if len(entries) < 2:
            why = f" Not usable: {', '.join(refused)}." if refused else ""
            raise InvalidRequest(f"A battle needs two different usable models in its pool; it has {len(entries)}."
                                 + why, param="pool", code="pool_too_small")
        return list(entries.values())

    def draw(self, pool: Sequence[ModelEntry]) -> tuple[ModelEntry, ModelEntry]:
        first, second = self.rng.sample(list(pool), 2)
        return first, second

    # -- starting ------------------------------------------------------------------

    def _prepare_chat(self, entry: ModelEntry, prompt: str) -> PreparedChat:
        request = ChatRequest(model=entry.id, messages=[ChatMessage(role="user", content=prompt)])
        return self.chat.prepare(request)

    async def start(self, *, owner_id: str, task: VoteTask, prompt: str,
                    pool: Sequence[str] | None = None) -> BattleRecord:
        """Draw two models and store the battle; image battles submit their two jobs here."""
        first, second = self.draw(self.pool(task, pool))
        if task == "chat":
            for entry in (first, second):
                self._prepare_chat(entry, prompt)  # refusals (context window...) are a 4xx before any row
            writing = Answer(writer=self.writers.own)
            return await self.battles.create(owner_id=owner_id, task=task, prompt=prompt, model_a=first.id,
                                             model_b=second.id, answers=(writing, writing))
        answers = []
        for entry in (first, second):
            job, _ = await self.images.submit_image(owner_id=owner_id, request=ImageRequest(model=entry.id,
                                                                                            prompt=prompt))
            answers.append(Answer(job_id=job.id))
        return await self.battles.create(owner_id=owner_id, task=task, prompt=prompt, model_a=first.id,
                                         model_b=second.id, answers=(answers[0], answers[1]))

    # -- running chat battles ----------------------------------------------------------

    def _terms(self, model: str) -> list[str]:
        entry = self.catalog.resolve(model)
        provider = self.providers.get(entry.provider)
        return identity_terms(entry, provider.display_name if provider else "")

    async def _answer_chat(self, battle: BattleRecord, side: Side, queue: asyncio.Queue[BattleEvent]) -> None:
        model = battle.model_a if side == "a" else battle.model_b
        sentence_filter = SentenceFilter(self._terms(model))
        try:
            prepared = self._prepare_chat(self.catalog.resolve(model), battle.prompt)
            async for event in self.chat.stream(prepared, owner_id=battle.owner_id, endpoint=CHAT_ENDPOINT):
                if isinstance(event, TextDelta) and (shown := sentence_filter.feed(event.text)):
                    await queue.put(AnswerDelta(side, shown))
            if rest := sentence_filter.flush():
                await queue.put(AnswerDelta(side, rest))
            answer = Answer(status="complete", text=sentence_filter.shown, stripped=sentence_filter.stripped)
        except EaselError as exc:
            answer = Answer(status="failed", text=sentence_filter.shown, error=exc.message,
                            error_code=exc.code or exc.error_type)
        await self.battles.set_answer(owner_id=battle.owner_id, battle_id=battle.id, side=side, answer=answer,
                                      leaked=sentence_filter.leaked)
        await queue.put(AnswerFinished(side, answer))

    async def run_chat(self, battle: BattleRecord) -> AsyncGenerator[BattleEvent, None]:
        """Both answers at once, as they come; each side ends with AnswerFinished (stored by then)."""
        queue: asyncio.Queue[BattleEvent] = asyncio.Queue()
        tasks = [asyncio.create_task(self._answer_chat(battle, side, queue)) for side in SIDES]
        finished = 0
        try:
            while finished < len(tasks):
                event = await queue.get()
                finished += isinstance(event, AnswerFinished)
                yield event
        finally:
            for task in tasks:
                task.cancel()
            for side, task in zip(SIDES, tasks, strict=True):
                try:
                    await task
                except asyncio.CancelledError:
                    interrupted = Answer(status="failed", error="The answer was interrupted before it was complete.",
                                         error_code="interrupted")
                    await self.battles.set_answer(owner_id=battle.owner_id, battle_id=battle.id, side=side,
                                                  answer=interrupted)

    # -- image battles -------------------------------------------------------------------

    async def refresh(self, battle: BattleRecord) -> BattleRecord:
        """Bring pending image answers up to date with their jobs."""
        if battle.task != "image":
            return battle
        changed = False
        for side in SIDES:
            answer = battle.answer(side)
            if answer.status != "pending" or answer.job_id is None:
                continue
            job = await self.images.jobs.get(owner_id=battle.owner_id, job_id=answer.job_id)  # type: ignore[union-attr]
            if job.status == "succeeded":
                updated = answer.model_copy(update={"status": "complete",
                                                    "images": list((job.outputs or {}).get("assets", []))})
            elif job.status in ("failed", "canceled"):
                updated = answer.model_copy(update={"status": "failed", "error": job.error or f"job {job.status}",
                                                    "error_code": job.error_code or f"job_{job.status}"})
            else:
                continue
            await self.battles.set_answer(owner_id=battle.owner_id, battle_id=battle.id, side=side, answer=updated)
            changed = True
        return await self.get(owner_id=battle.owner_id, battle_id=battle.id, fresh=False) if changed else battle

    async def wait_images(self, battle: BattleRecord, timeout: float) -> BattleRecord:
        """Wait for both image jobs to end (or `timeout`), then refresh."""
        waits = [self.images.jobs.wait(owner_id=battle.owner_id, job_id=battle.answer(side).job_id,  # type: ignore[union-attr,arg-type]
                                       timeout=timeout)
                 for side in SIDES if battle.answer(side).job_id and battle.answer(side).status == "pending"]
        await asyncio.gather(*waits, return_exceptions=True)
        return await self.refresh(battle)

    async def image_png(self, *, owner_id: str, battle_id: str, side: Side, index: int) -> bytes:
        """One picture of one side, re-encoded without the text chunks that name its model."""
        battle = await self.get(owner_id=owner_id, battle_id=battle_id)
        images = battle.answer(side).images
        if not 0 <= index < len(images):
            raise NotFound(f"Answer {side.upper()} of battle '{battle_id}' has no image {index}.", param="index")
        data = await self.assets.read_bytes(owner_id=owner_id, asset_id=images[index])
        with Image.open(io.BytesIO(data)) as picture:
            clean = Image.frombytes(picture.mode, picture.size, picture.tobytes())
        out = io.BytesIO()
        clean.save(out, format="PNG")
        return out.getvalue()

    # -- reading and voting ------------------------------------------------------------

    async def get(self, *, owner_id: str, battle_id: str, fresh: bool = True) -> BattleRecord:
        battle = await self.battles.get(owner_id=owner_id, battle_id=battle_id)
        if not fresh:
            return battle
        if await self._fail_gone(battle):
            battle = await self.battles.get(owner_id=owner_id, battle_id=battle_id)
        return await self.refresh(battle)

    async def _fail_gone(self, battle: BattleRecord) -> bool:
        """Mark failed the chat answers of this battle a crash left pending; True if there were any."""
        if battle.task != "chat":
            return False
        cut = [side for side in SIDES if battle.answer(side).status == "pending"
               and self.writers.gone(battle.answer(side).writer, battle.created_at)]
        for side in cut:
            answer = battle.answer(side).model_copy(update={"status": "failed", "error": INTERRUPTED_MESSAGE,
                                                            "error_code": INTERRUPTED_CODE, "writer": None})
            await self.battles.set_answer(owner_id=battle.owner_id, battle_id=battle.id, side=side, answer=answer)
        return bool(cut)

    async def recover_interrupted(self) -> int:
        """Mark failed the chat answers a crash left pending in every battle; answers how many battles (start-up)."""
        return sum([await self._fail_gone(battle) for battle in await self.battles.unfinished_chat()])

    async def list(self, *, owner_id: str, task: VoteTask | None = None, limit: int = 50,
                   offset: int = 0) -> list[BattleRecord]:
        return await self.battles.list(owner_id=owner_id, task=task, limit=limit, offset=offset)

    async def vote(self, *, owner_id: str, battle_id: str, outcome: VoteOutcome) -> BattleRecord:
        battle = await self.get(owner_id=owner_id, battle_id=battle_id)
        if battle.outcome is not None:
            raise Conflict(f"Battle '{battle_id}' already has a vote; one vote per battle.", param="battle_id",
                           code="already_voted")
        for side in SIDES:
            answer = battle.answer(side)
            if answer.status == "pending":
                raise Conflict(f"Answer {side.upper()} is not complete yet; vote when both answers are complete.",
                               param="battle_id", code="answer_not_complete")
            if answer.status == "failed":
                raise Conflict(f"Answer {side.upper()} failed ({answer.error_code}), so this battle can't be voted; "
                               "start another one.", param="battle_id", code="answer_failed")
        return await self.battles.record_vote(owner_id=owner_id, battle_id=battle_id, outcome=outcome)


def battle_public(battle: BattleRecord, base_url: str = "") -> dict[str, Any]:
    """What a client sees: names, the leak flag and error messages only once the battle is voted."""
    revealed = battle.outcome is not None
    answers = {}
    for side in SIDES:
        answer = battle.answer(side)
        answers[side] = {
            "status": answer.status,
            "text": answer.text,
            "images": [f"{base_url}/api/battles/{battle.id}/answers/{side}/images/{i}" for i in range(len(answer.images))],
            "error": (answer.error if revealed else "This answer failed.") if answer.status == "failed" else None,
            "error_code": answer.error_code,
        }
    body: dict[str, Any] = {
        "id": battle.id, "object": "battle", "task": battle.task, "prompt": battle.prompt,
        "status": "voted" if revealed else ("ready" if all(a["status"] == "complete" for a in answers.values())
                                            else "failed" if any(a["status"] == "failed" for a in answers.values())
                                            else "running"),
        "answers": answers, "outcome": battle.outcome, "created_at": battle.created_at.isoformat(),
        "voted_at": battle.voted_at.isoformat() if battle.voted_at else None,
        "models": None, "leaked": None,
    }
    if revealed:
        body["models"] = {"a": battle.model_a, "b": battle.model_b}
        body["leaked"] = battle.leaked
        body["stripped"] = {side: battle.answer(side).stripped for side in SIDES}
    return body
