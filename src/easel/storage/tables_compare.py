"""Tables for side-by-side comparisons: a comparison (its task and models), its turns (the
shared user prompts) and one answer per turn and column.

A column is one model, by its index in `comparisons.models`. A chat answer stores its text,
reasoning, usage and timings when it ends; an image answer stores only its job's id (the job
row holds status, progress, outputs and cost, so an image comparison is never stale).
`comparison_turns.best_column` is the user's pick for that turn, the source of its votes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from easel.storage.tables import Base, utcnow

COMPARISON_TASKS = ("chat", "image")
ANSWER_STATUSES = ("running", "complete", "failed")


class Comparison(Base):
    __tablename__ = "comparisons"
    __table_args__ = (
        Index("ix_comparisons_owner_id_updated_at", "owner_id", "updated_at"),
        CheckConstraint("task IN ('chat', 'image')", name="task"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text, default="")
    # The resolved model ids, one per column, in column order.
    models: Mapped[list[str]] = mapped_column(JSON)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    # Messages given before the first prompt (a chat history to compare on), shared by every column.
    history: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComparisonTurn(Base):
    __tablename__ = "comparison_turns"
    __table_args__ = (UniqueConstraint("comparison_id", "seq"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    comparison_id: Mapped[str] = mapped_column(ForeignKey("comparisons.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    # The request's options (chat sampling options, or the image settings asked for).
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    best_column: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComparisonAnswer(Base):
    __tablename__ = "comparison_answers"
    __table_args__ = (
        UniqueConstraint("turn_id", "column"),
        Index("ix_comparison_answers_job_id", "job_id"),
        CheckConstraint("status IN ('running', 'complete', 'failed')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    turn_id: Mapped[str] = mapped_column(ForeignKey("comparison_turns.id", ondelete="CASCADE"))
    column: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="running")
    content: Mapped[str] = mapped_column(Text, default="")
    reasoning: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    finish_reason: Mapped[str | None] = mapped_column(String(32))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    reasoning_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    # The process streaming a running chat answer (`host:pid:random`); tells a crash's leftovers apart.
    writer: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
