"""Build and tear down the world: database, catalog, providers, usage recorder, job workers and
every service (chat, conversations, images, workflows, compare, arena, leaderboard).

Both the HTTP app (create_app's lifespan) and the CLI open a studio the same way, so
the CLI works with no server running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from easel.api.deps import Services
from easel.catalog.catalog import Catalog
from easel.config import Settings
from easel.jobs import HandlerRegistry, JobService
from easel.providers.base import ProviderRegistry
from easel.services.arena import ArenaService
from easel.services.chat import ChatService
from easel.services.chat_attachments import ChatAttachments
from easel.services.chat_images import ChatImages
from easel.services.compare import CompareService
from easel.services.conversations import ConversationService
from easel.services.images import ImageService
from easel.services.leaderboard import LeaderboardService
from easel.services.vision_fallback import VisionFallback
from easel.services.web_context import WebContextService
from easel.services.workflows import WorkflowService
from easel.storage.assets import AssetStore
from easel.storage.battles import BattleStore
from easel.storage.comparisons import ComparisonStore
from easel.storage.db import Database
from easel.storage.migrate import upgrade_async
from easel.storage.usage import UsageRecorder
from easel.storage.votes import VoteStore


@asynccontextmanager
async def open_studio(settings: Settings, *, run_workers: bool = True) -> AsyncIterator[Services]:
    """Everything, started; `run_workers=False` for a process that only reads (no job workers)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    await upgrade_async(url)
    database = Database(url)
    providers = ProviderRegistry.from_entry_points(settings)
    extra = [entry for provider in providers for entry in provider.extra_models()]
    catalog = Catalog.load(extra)
    usage = UsageRecorder(database)
    await usage.start()
    web = WebContextService(settings)
    chat = ChatService(catalog=catalog, providers=providers, usage=usage, web=web)
    conversations = ConversationService(database=database, chat=chat, settings=settings)
    assets = AssetStore(database, settings.home / "assets")
    attachments = conversations.attachments = ChatAttachments(assets=assets, fallback=VisionFallback())
    await assets.sweep()  # temp files and orphans a crash may have left
    images = ImageService(settings=settings, catalog=catalog, providers=providers, assets=assets)
    handlers = HandlerRegistry()
    images.register_handlers(handlers)
    workflows = WorkflowService(database=database, settings=settings, catalog=catalog, chat=chat, images=images)
    workflows.register_handlers(handlers)
    jobs = JobService.create(database, handlers, run_workers=run_workers, workers=settings.job_workers,
                             limit_for=lambda model: workflows.concurrency_for(model) or images.concurrency_for(model))
    images.jobs = jobs
    workflows.jobs = jobs
    conversations.chat_images = ChatImages(store=conversations.store, chat=chat, images=images, jobs=jobs,
                                           settings=settings)
    votes = VoteStore(database)  # comparisons' picks and battles' votes, the leaderboard's input
    compare = CompareService(catalog=catalog, chat=chat, images=images, jobs=jobs, assets=assets,
                             store=ComparisonStore(database), conversations=conversations.store,
                             votes=votes)
    arena = ArenaService(catalog=catalog, providers=providers, chat=chat, images=images, assets=assets,
                         battles=BattleStore(database))
    leaderboard = LeaderboardService(votes=votes,
                                     known_models=lambda task: [entry.id for entry in arena.usable(task)])
    await jobs.start()
    await compare.recover_interrupted()  # chat answers a crash cut off: failed, not running forever
    await arena.recover_interrupted()
    try:
        yield Services(settings=settings, database=database, catalog=catalog, providers=providers,
                       chat=chat, conversations=conversations, jobs=jobs, images=images, assets=assets,
                       compare=compare, arena=arena, leaderboard=leaderboard, workflows=workflows,
                       attachments=attachments)
    finally:
        await jobs.stop(grace=5.0)
        await usage.aclose()
        await providers.aclose()
        await web.aclose()
        await database.dispose()
