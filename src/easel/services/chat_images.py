"""Pictures inside a conversation: image turns and the `generate_image` tool.

`ConversationService` asks `plan()` before a turn: `/image <prompt>`, a natural-language
request (models without tool calling) or a refinement right after an image turn makes the
turn an image turn, which `run()` carries out: an image job on the conversation's image
model through `ImageService`, its progress streamed as `ImageEvent`s, then one assistant
message whose `extras.images` lists what was drawn ({asset_id, prompt, model, job_id, width,
height, source, ...}). A failure is stored as a failed turn with the error, so `retry` works.

Models with tool calling get the `generate_image` tool instead (`answer()`), on turns that talk
about pictures or follow one (`image_intent.invites_the_tool`): when the model
calls it, the picture is drawn and the model finishes its answer with the tool's result
(one tool round). A refinement's prompt is rewritten by the chat model when its answer
passes `image_intent.accept_rewrite`, else merged deterministically; both are recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
from pydantic import ValidationError

from easel.config import Settings
from easel.errors import EaselError, InvalidRequest
from easel.jobs import JobService
from easel.jobs.events import JobFailed, JobProgress, JobSnapshot, JobSucceeded, is_terminal
from easel.services.chat import ChatService, ChatTimings, PreparedChat
from easel.services.conversations import TurnEvent, TurnFailed, TurnFinished, TurnStarted
from easel.services.image_intent import ImageIntent, accept_rewrite, detect, invites_the_tool, merge_refinement
from easel.services.images import ImageService, job_error
from easel.storage.conversations import ConversationDetail, ConversationRecord, ConversationStore, MessageRecord
from easel.tasks.chat import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    ImageEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)
from easel.tasks.image import ASPECT_RATIOS, ImageRequest

ENDPOINT = "/api/conversations"
TOOL_NAME = "generate_image"
GENERATE_IMAGE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Draw a picture and show it to the user. Use it when the user asks for an image, or "
                       "to change the last image (give the whole new prompt).",
        "parameters": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "What to draw: subject, setting, light, style."},
                "aspect_ratio": {"type": "string", "enum": list(ASPECT_RATIOS)},
            },
            "required": ["prompt"],
        },
    },
}
# A rewrite is a convenience; past this the deterministic merge is used.
REWRITE_TIMEOUT_S = 30.0
REWRITE_MAX_TOKENS = 60
REWRITE_SYSTEM = ("You edit prompts for an image generator. Apply the requested change to the prompt and reply "
                  "with the new prompt only, on one line, with no explanation.")


@dataclass(slots=True)
class ImageTurn:
    """A turn that draws instead of chatting: what to draw, with which model, and the chat model (for rewrites)."""

    intent: ImageIntent
    image_model: str
    chat: PreparedChat


def last_image_prompt(messages: list[MessageRecord]) -> str | None:
    """The prompt of the picture in the latest complete answer, if that answer drew one."""
    for message in reversed(messages):
        if message.role == "assistant" and message.status == "complete":
            images = (message.extras or {}).get("images") or []
            return str(images[-1].get("prompt") or "") or None if images else None
    return None


def _tool_arguments(raw: str) -> tuple[str, str | None]:
    try:
        args = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The model called {TOOL_NAME} with arguments that are not JSON: {raw[:200]!r}.",
                             code="invalid_tool_call") from exc
    prompt = args.get("prompt") if isinstance(args, dict) else None
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest(f"The model called {TOOL_NAME} without a prompt.", code="invalid_tool_call")
    aspect = args.get("aspect_ratio")
    if aspect is not None and aspect not in ASPECT_RATIOS:
        raise InvalidRequest(f"Invalid aspect_ratio {aspect!r} in {TOOL_NAME}; supported: "
                             f"{', '.join(ASPECT_RATIOS)}.", param="aspect_ratio", code="invalid_value")
    return prompt.strip(), aspect


class ChatImages:
    def __init__(self, *, store: ConversationStore, chat: ChatService, images: ImageService, jobs: JobService,
                 settings: Settings) -> None:
        self.store = store
        self.chat = chat
        self.images = images
        self.jobs = jobs
        self.settings = settings

    # -- the conversation's image model -------------------------------------------

    def resolve_model(self, model: str | None) -> str:
        """A catalog image model's id (aliases resolve; a chat model or an unknown id is a 4xx)."""
        try:
            return self.chat.catalog.resolve(model or self.settings.default_image_model, task="image").id
        except EaselError as exc:
            exc.param = "image_model"  # the field the caller sent, not the catalog's generic "model"
            raise

    def image_model_of(self, conversation: ConversationRecord) -> str:
        return conversation.image_model or self.resolve_model(None)

    async def set_image_model(self, *, owner_id: str, conversation_id: str, image_model: str) -> ConversationRecord:
        return await self.store.update_conversation(owner_id=owner_id, conversation_id=conversation_id,
                                                    image_model=self.resolve_model(image_model))

    # -- planning --------------------------------------------------------------------

    def plan(self, detail: ConversationDetail, content: str, prepared: PreparedChat) -> ImageTurn | None:
        """Whether `content`, following `detail`'s messages, is an image turn. Refusals happen here, before
        the user's message is stored: an empty `/image`, an image model that is not usable now."""
        intent = detect(content, previous_prompt=last_image_prompt(detail.messages),
                        natural_language=not prepared.entry.capabilities.tools)
        if intent is None:
            return None
        if not intent.text:
            raise InvalidRequest("Say what to draw after /image, e.g. '/image a lighthouse at night'.",
                                 param="content")
        image_model = self.image_model_of(detail)
        self.images.resolve(image_model, "image")
        return ImageTurn(intent, image_model, prepared)

    def plan_retry(self, detail: ConversationDetail, prepared: PreparedChat) -> ImageTurn | None:
        """`plan` for the conversation's last user message, as `retry` answers it again."""
        for index in range(len(detail.messages) - 1, -1, -1):
            message = detail.messages[index]
            if message.role == "user" and message.status == "complete":
                before = detail.model_copy(update={"messages": detail.messages[:index]})
                return self.plan(before, message.content, prepared)
        return None

    # -- an image turn -------------------------------------------------------------------

    async def run(self, turn: ImageTurn, *, owner_id: str, conversation_id: str,
                  user_message_id: str | None) -> AsyncIterator[TurnEvent]:
        yield TurnStarted(conversation_id, user_message_id, turn.image_model)
        started = time.perf_counter()
        drawn: list[dict[str, Any]] = []
        error: EaselError | None = None
        try:
            prompt, record = await self._prompt_for(turn, owner_id)
            drawing = self.draw(owner_id=owner_id, prompt=prompt, model=turn.image_model,
                                record={"source": turn.intent.kind, **record})
            async with contextlib.aclosing(drawing):  # a client gone mid-picture cancels its job at once
                async for event in drawing:
                    drawn.extend(event.images)
                    yield event
        except EaselError as exc:
            error = exc
        except (asyncio.CancelledError, GeneratorExit):
            await asyncio.shield(self._store_turn(owner_id, conversation_id, turn, [], started,
                                                  "Stopped before the picture was finished."))
            raise
        message = await self._store_turn(owner_id, conversation_id, turn, drawn, started,
                                         error.message if error else None)
        yield TurnFailed(message, error) if error else TurnFinished(message)

    async def _prompt_for(self, turn: ImageTurn, owner_id: str) -> tuple[str, dict[str, Any]]:
        intent = turn.intent
        if intent.kind != "refine" or intent.previous is None:
            return intent.text, {}
        rewritten = await self._rewrite(turn.chat, owner_id, intent.previous, intent.text)
        prompt = rewritten or merge_refinement(intent.previous, intent.text)
        return prompt, {"refined_from": intent.previous, "instruction": intent.text,
                        "rewritten_by": turn.chat.entry.id if rewritten else None}

    async def _rewrite(self, prepared: PreparedChat, owner_id: str, previous: str, instruction: str) -> str | None:
        """The chat model's rewrite of `previous` with `instruction`, if it gives a usable one."""
        request = ChatRequest(model=prepared.entry.id, max_tokens=REWRITE_MAX_TOKENS, temperature=0, messages=[
            ChatMessage(role="system", content=REWRITE_SYSTEM),
            ChatMessage(role="user", content=f"Prompt: {previous}\nChange: {instruction}\nNew prompt:")])
        text = ""
        try:
            async with asyncio.timeout(REWRITE_TIMEOUT_S):
                async for event in self.chat.stream(self.chat.prepare(request), owner_id=owner_id, endpoint=ENDPOINT):
                    if isinstance(event, TextDelta):
                        text += event.text
        except (EaselError, TimeoutError):
            return None  # the merge still gives a prompt; a rewrite is never worth failing the turn
        return accept_rewrite(text, previous, instruction)

    async def _store_turn(self, owner_id: str, conversation_id: str, turn: ImageTurn, drawn: list[dict[str, Any]],
                          started: float, error: str | None) -> MessageRecord:
        caption = "\n\n".join(f'Here is "{image["prompt"]}".' for image in drawn)
        return await self.store.add_message(
            owner_id=owner_id, conversation_id=conversation_id, role="assistant", content="" if error else caption,
            model=turn.image_model, status="failed" if error else "complete", error=error,
            finish_reason=None if error else "stop", latency_ms=round((time.perf_counter() - started) * 1000),
            extras={"images": drawn} if drawn and not error else None)

    # -- drawing --------------------------------------------------------------------------

    async def draw(self, *, owner_id: str, prompt: str, model: str, aspect_ratio: str | None = None,
                   record: dict[str, Any] | None = None) -> AsyncIterator[ImageEvent]:
        """Run one image job, yielding its progress and, last, the stored images; a failed job raises.

        If the consumer goes away, the job is canceled: nobody is left to see the picture.
        """
        try:
            request = ImageRequest(model=model, prompt=prompt, aspect_ratio=aspect_ratio)  # type: ignore[arg-type]
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise InvalidRequest(f"Cannot draw this: {problem['msg']}.", param=str(problem["loc"][-1]),
                                 code="invalid_value") from exc
        job, _ = await self.images.submit_image(owner_id=owner_id, request=request)
        model = job.model
        yield ImageEvent(job_id=job.id, status="queued", progress=0.0, prompt=prompt, model=model)
        finished = False
        try:
            events = await self.jobs.events(owner_id=owner_id, job_id=job.id)
            async with contextlib.aclosing(events):
                async for event in events:
                    if isinstance(event, JobProgress):
                        yield ImageEvent(job_id=job.id, status="running", progress=event.progress, prompt=prompt,
                                         model=model, message=event.message)
                    if is_terminal(event):
                        break
            finished = True
        finally:
            if not finished:
                await asyncio.shield(self.jobs.cancel(owner_id=owner_id, job_id=job.id))
        job = await self.jobs.get(owner_id=owner_id, job_id=job.id)
        if job.status != "succeeded":
            raise job_error(job)
        images = [{"asset_id": out["asset_id"], "prompt": prompt, "model": model, "job_id": job.id,
                   "width": out.get("width"), "height": out.get("height"), **(record or {})}
                  for out in (job.outputs or {}).get("images", [])]
        yield ImageEvent(job_id=job.id, status="succeeded", progress=1.0, prompt=prompt, model=model, images=images)

    # -- the generate_image tool ---------------------------------------------------------

    def offers_tool(self, prepared: PreparedChat) -> bool:
        if not prepared.entry.capabilities.tools:
            return False
        messages = prepared.request.messages
        user = next((m.text() for m in reversed(messages) if m.role == "user"), "")
        answer = next((m.text() for m in reversed(messages) if m.role == "assistant"), None)
        return invites_the_tool(user, answer)

    async def answer(self, prepared: PreparedChat, *, owner_id: str, conversation_id: str,
                     timings: ChatTimings) -> AsyncIterator[ChatEvent | ImageEvent]:
        """A chat answer that may draw: with tool calling, one round of `generate_image`, then the answer."""
        if not self.offers_tool(prepared):
            async for event in self.chat.stream(prepared, owner_id=owner_id, endpoint=ENDPOINT, timings=timings):
                yield event
            return
        request = prepared.request
        offered = replace(prepared, request=request.model_copy(
            update={"tools": [*(request.tools or []), GENERATE_IMAGE_TOOL]}))
        calls: dict[int, dict[str, str]] = {}
        held: list[ChatEvent] = []  # the first round's usage and finish: they stand only if nothing is drawn
        async for event in self.chat.stream(offered, owner_id=owner_id, endpoint=ENDPOINT, timings=timings):
            if isinstance(event, ToolCallDelta) and (event.name == TOOL_NAME or event.index in calls):
                call = calls.setdefault(event.index, {"id": "", "arguments": ""})
                call["id"] = event.id or call["id"]
                call["arguments"] += event.arguments
            elif isinstance(event, (UsageEvent, Finish)):
                held.append(event)
            else:
                yield event
        if not calls:
            for event in held:
                yield event
            return
        index, call = min(calls.items())
        prompt, aspect = _tool_arguments(call["arguments"])
        conversation = await self.store.get_conversation(owner_id=owner_id, conversation_id=conversation_id)
        drawing = self.draw(owner_id=owner_id, prompt=prompt, model=self.image_model_of(conversation),
                            aspect_ratio=aspect, record={"source": "tool"})
        async with contextlib.aclosing(drawing):
            async for image_event in drawing:
                yield image_event  # the turn's ChatResult gathers the images into the message's extras
        call_id = call["id"] or f"call_{index}"
        result = (f"The image was generated and is shown to the user above your answer. Prompt: {prompt}. "
                  "Do not describe it in detail; say briefly what was drawn.")
        second = replace(prepared, request=request.model_copy(update={
            "tools": offered.request.tools, "tool_choice": "none",
            "messages": [*request.messages,
                         ChatMessage(role="assistant", content=None, tool_calls=[{
                             "id": call_id, "type": "function",
                             "function": {"name": TOOL_NAME, "arguments": call["arguments"]}}]),
                         ChatMessage(role="tool", tool_call_id=call_id, content=result)]}))
        first_usage = timings.usage or Usage()
        round_two = ChatTimings()
        async for event in self.chat.stream(second, owner_id=owner_id, endpoint=ENDPOINT, timings=round_two):
            if isinstance(event, UsageEvent):
                event = UsageEvent(_added(first_usage, event.usage))
            yield event
        timings.usage = _added(first_usage, round_two.usage or Usage())
        timings.total_ms = (time.perf_counter() - timings.started) * 1000


def _added(a: Usage, b: Usage) -> Usage:
    return Usage(prompt_tokens=a.prompt_tokens + b.prompt_tokens,
                 completion_tokens=a.completion_tokens + b.completion_tokens,
                 reasoning_tokens=a.reasoning_tokens + b.reasoning_tokens,
                 cached_tokens=a.cached_tokens + b.cached_tokens)
