"""What a route may ask for: the services built by create_app, and the calling account.

Embedded mode (no EASEL_API_KEYS, bound to loopback): one local account, no login; any
bearer key is accepted so unchanged OpenAI clients work. With keys configured, a request
without a valid bearer key gets a 401 in OpenAI's shape.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from easel.catalog.catalog import Catalog
from easel.config import Settings
from easel.errors import AuthenticationFailed
from easel.providers.base import ProviderRegistry
from easel.services.chat import ChatService
from easel.services.chat_attachments import ChatAttachments
from easel.jobs import JobService
from easel.services.conversations import ConversationService
from easel.services.compare import CompareService
from easel.services.images import ImageService
from easel.services.workflows import WorkflowService
from easel.services.arena import ArenaService
from easel.services.leaderboard import LeaderboardService
from easel.storage.assets import AssetStore
from easel.storage.db import Database

LOCAL_ACCOUNT = "acct_local"


@dataclass
class Services:
    settings: Settings
    database: Database
    catalog: Catalog
    providers: ProviderRegistry
    chat: ChatService
    conversations: ConversationService
    jobs: JobService
    images: ImageService
    assets: AssetStore
    compare: CompareService
    arena: ArenaService
    leaderboard: LeaderboardService
    workflows: WorkflowService
    attachments: ChatAttachments


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def account_id(request: Request) -> str:
    keys = request.app.state.services.settings.api_keys
    if not keys:
        return LOCAL_ACCOUNT
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("Missing API key: send 'Authorization: Bearer <key>'.")
    if not any(hmac.compare_digest(token, key) for key in keys):
        raise AuthenticationFailed("Incorrect API key provided.")
    return LOCAL_ACCOUNT


ServicesDep = Annotated[Services, Depends(services_of)]
AccountDep = Annotated[str, Depends(account_id)]
