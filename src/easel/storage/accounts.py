"""Accounts: the owners of every stored thing. Minimal until full accounts, keys and
budgets arrive; the local account (`acct_local`) is created by the first migration.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from easel.errors import NotFound
from easel.storage.db import Database
from easel.storage.tables import Account, new_id, utcnow


class AccountRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    name: str
    created_at: datetime


class AccountStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def create_account(self, *, name: str, account_id: str | None = None) -> AccountRecord:
        row = Account(id=account_id or new_id("acct"), name=name, created_at=utcnow())
        async with self.database.session() as session, session.begin():
            session.add(row)
        return AccountRecord.model_validate(row)

    async def get_account(self, *, account_id: str) -> AccountRecord:
        async with self.database.session() as session:
            row = await session.scalar(select(Account).where(Account.id == account_id))
        if row is None:
            raise NotFound(f"No account with id '{account_id}'.")
        return AccountRecord.model_validate(row)
