"""Storage: the database handle (`db`), the schema (`tables`), migrations (`migrate`,
`migrations/`), and the repositories built on them (`conversations`, `usage`).

Nothing connects at import time: the app builds one `Database(url)`, runs
`upgrade(url)` at startup, and hands the database to the stores.
"""

from easel.storage.accounts import AccountRecord, AccountStore
from easel.storage.conversations import ConversationDetail, ConversationRecord, ConversationStore, MessageRecord
from easel.storage.db import Database
from easel.storage.migrate import upgrade, upgrade_async
from easel.storage.tables import LOCAL_ACCOUNT_ID
from easel.storage.usage import UsageRecorder

__all__ = [
    "LOCAL_ACCOUNT_ID",
    "AccountRecord",
    "AccountStore",
    "ConversationDetail",
    "ConversationRecord",
    "ConversationStore",
    "Database",
    "MessageRecord",
    "UsageRecorder",
    "upgrade",
    "upgrade_async",
]
