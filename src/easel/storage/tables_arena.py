"""Tables for comparing models: comparisons (issue 5 compare), battles, and the votes the
leaderboard is fitted from.

A vote is one pairwise outcome between two models on one task. Battles write one vote each;
a comparison's "best answer" pick writes one vote per other complete column (the pick beat
each of them). `excluded` marks votes the leaderboard leaves out (an answer named its own
model, so the vote was not blind).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from easel.storage.tables import Base, utcnow

VOTE_OUTCOMES = ("a", "b", "tie", "both_bad")
VOTE_SOURCES = ("battle", "comparison")


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (
        Index("ix_votes_owner_id_task_created_at", "owner_id", "task", "created_at"),
        Index("ix_votes_source_id", "source_id"),
        CheckConstraint("outcome IN ('a', 'b', 'tie', 'both_bad')", name="outcome"),
        CheckConstraint("source IN ('battle', 'comparison')", name="source"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(16))
    model_a: Mapped[str] = mapped_column(String(255))
    model_b: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Battle(Base):
    """A blind match: one prompt, two models drawn from a pool, answers shown as A and B.

    `answer_a` / `answer_b` hold what each side produced (`status`: pending, complete or
    failed; `text` for chat; `job_id` and `images` for image battles; `error`). The model
    names stay in this row and reach the client only after `outcome` is set.
    """

    __tablename__ = "battles"
    __table_args__ = (
        Index("ix_battles_owner_id_created_at", "owner_id", "created_at"),
        CheckConstraint("task IN ('chat', 'image')", name="task"),
        CheckConstraint("outcome IS NULL OR outcome IN ('a', 'b', 'tie', 'both_bad')", name="outcome"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    model_a: Mapped[str] = mapped_column(String(255))
    model_b: Mapped[str] = mapped_column(String(255))
    answer_a: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer_b: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(16))
    leaked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    voted_at: Mapped[datetime | None] = mapped_column()
