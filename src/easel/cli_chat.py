"""The chat side of the CLI: one-shot and interactive chats, follow-ups, the conversation list.

Reasoning prints dimmed before the answer; the answer streams as plain text so it can be
piped. Ctrl-C stops the current answer (the turn is recorded as failed) without losing
the conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from easel.config import Settings
from easel.errors import EaselError, NotFound
from easel.services.conversations import ConversationService, TurnFailed, TurnFinished, TurnOptions, TurnStarted
from easel.cli_chat_images import ImageProgressBar, print_images
from easel.cli_web import print_sources
from easel.cli_chat_parts import image_parts, message_content, print_reading_notes, print_warnings
from easel.studio import open_studio
from easel.tasks.chat import ChatMessage, ChatRequest, ImageEvent, ReasoningDelta, TextDelta

LOCAL_ACCOUNT = "acct_local"


async def _pick_conversation(
    service: ConversationService, *, model: str | None, cont: bool, conversation_id: str | None, system: str | None
) -> str:
    if conversation_id:
        return (await service.get(owner_id=LOCAL_ACCOUNT, conversation_id=conversation_id)).id
    if cont:
        last = await service.last(owner_id=LOCAL_ACCOUNT)
        if last is None:
            raise NotFound("There is no conversation to continue yet; start one without -c.")
        return last.id
    # Refuse an unusable model (unknown, missing key) before a conversation is created for it.
    model_id = model or service.settings.default_chat_model
    service.chat.prepare(ChatRequest(model=model_id, messages=[ChatMessage(role="user", content="check")]))
    created = await service.create(owner_id=LOCAL_ACCOUNT, model=model_id, system_prompt=system)
    return created.id


async def _turn(service: ConversationService, out: Console, err: Console, conversation_id: str, text: str,
                model: str | None, options: TurnOptions, image_output: Path | None = None,
                images: list[dict[str, Any]] | None = None) -> bool:
    in_reasoning = False
    events = service.send(owner_id=LOCAL_ACCOUNT, conversation_id=conversation_id,
                          content=message_content(text, images), model=model, options=options)
    bar = ImageProgressBar(err)
    try:
        async for event in events:
            if isinstance(event, ReasoningDelta):
                if not in_reasoning:
                    err.print("[dim]thinking…[/dim]")
                    in_reasoning = True
                err.print(event.text, style="dim", end="", soft_wrap=True, highlight=False, markup=False)
            elif isinstance(event, TextDelta):
                if in_reasoning:
                    err.print()
                    in_reasoning = False
                out.file.write(event.text)
                out.file.flush()
            elif isinstance(event, ImageEvent):
                bar.show(event)
            elif isinstance(event, TurnStarted):
                print_warnings(err, event.warnings)
            elif isinstance(event, TurnFinished):
                bar.close()
                out.file.write("\n")
                out.file.flush()
                print_sources(out, event.message.extras)
                print_reading_notes(err, event.message.extras, event.message.model)
                if service.chat_images:
                    await print_images(service.chat_images.images.assets, event.message.extras, out, image_output)
            elif isinstance(event, TurnFailed):
                err.print(f"\n[red]error:[/red] {escape(event.error.message)}")
                return False
    finally:
        bar.close()
        await events.aclose()
    return True


async def run_chat(settings: Settings, out: Console, err: Console, *, prompt: str | None, model: str | None,
                   cont: bool, conversation_id: str | None, system: str | None, options: dict[str, Any],
                   image_model: str | None = None, image_output: Path | None = None,
                   images: list[Path] | None = None) -> None:
    turn_options = TurnOptions(**options)
    attached = image_parts(images)  # read and checked before a conversation is created for them
    async with open_studio(settings) as services:
        service = services.conversations
        if image_model and service.chat_images:
            service.chat_images.resolve_model(image_model)  # refuse a bad one before a conversation exists
        conv_id = await _pick_conversation(service, model=model, cont=cont, conversation_id=conversation_id,
                                           system=system)
        if image_model and service.chat_images:
            await service.chat_images.set_image_model(owner_id=LOCAL_ACCOUNT, conversation_id=conv_id,
                                                      image_model=image_model)
        if prompt is not None:
            if not await _turn(service, out, err, conv_id, prompt, model, turn_options, image_output, attached):
                raise SystemExit(1)
            return
        err.print(f"[dim]conversation {conv_id} — empty line or Ctrl-D to quit[/dim]")
        while True:
            try:
                line = input("> ")
            except (EOFError, KeyboardInterrupt):
                err.print()
                return
            if not line.strip() or line.strip() in ("exit", "quit", "/exit", "/quit"):
                return
            try:
                await _turn(service, out, err, conv_id, line, model, turn_options, image_output, attached)
                attached = []  # --image goes with the first message only
            except EaselError as exc:
                err.print(f"[red]error:[/red] {escape(exc.message)}")


async def list_conversations(settings: Settings, out: Console, *, limit: int, search: str | None) -> None:
    async with open_studio(settings) as services:
        items, total = await services.conversations.list(owner_id=LOCAL_ACCOUNT, limit=limit, offset=0,
                                                         search=search)
    table = Table(title=f"{len(items)} of {total} conversations")
    table.add_column("id", no_wrap=True)
    for column in ("title", "model", "updated"):
        table.add_column(column)
    for item in items:
        table.add_row(item.id, escape(item.title or "(untitled)"), item.model,
                      item.updated_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)
