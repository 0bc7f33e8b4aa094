"""A Progress for provider tests: records reports, and cancels itself on a chosen message.

    progress = RecordingProgress(cancel_on="generating: 50%")

`notice="wait"` reports the cancel from `wait_canceled` (how a polling loop sees it);
`notice="progress"` only raises from `progress()`, as a JobContext does at the next report.
"""

from __future__ import annotations

import asyncio


class Stopped(BaseException):
    """What RecordingProgress raises once canceled (JobContext raises JobStopped)."""


class RecordingProgress:
    def __init__(self, cancel_on: str | None = None, notice: str = "wait") -> None:
        self.reports: list[tuple[float, str | None]] = []
        self.canceled = False
        self.cancel_on = cancel_on
        self.notice = notice

    def progress(self, fraction: float, message: str | None = None) -> None:
        self.raise_if_canceled()
        self.reports.append((fraction, message))
        if self.cancel_on and message and self.cancel_on in message:
            self.canceled = True

    def is_canceled(self) -> bool:
        return self.canceled

    def raise_if_canceled(self) -> None:
        if self.canceled:
            raise Stopped()

    async def wait_canceled(self, timeout: float | None = None) -> bool:
        if not self.canceled:
            await asyncio.sleep(timeout or 0)
        return self.canceled if self.notice == "wait" else False
