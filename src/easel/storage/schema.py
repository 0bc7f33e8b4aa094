"""The whole schema in one import: every module that declares tables on `tables.Base`.

Feature tables live next to their feature (`tables_arena`, `tables_workflows`) so that
`tables.py` stays small; anything that needs the complete `Base.metadata` (the migration
check, tooling) imports this module instead of `tables` alone.
"""

from __future__ import annotations

from easel.storage import tables, tables_arena, tables_compare, tables_workflows  # noqa: F401  (imported for their tables)
from easel.storage.tables import Base

metadata = Base.metadata
