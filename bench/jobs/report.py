"""RESULTS.md for the jobs benchmark: command, machine, tables, ratios and a reading.

The reading is written from the figures of the run it reports (each sentence names the
numbers it rests on), so re-running the benchmark never leaves stale claims behind.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections import Counter
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from bench.jobs import queue

if TYPE_CHECKING:
    from bench.jobs.run import BackendResult, Options

MS = 1000.0


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM; load average before writing: {load}"


def software() -> str:
    names = ("sqlalchemy", "aiosqlite", "psycopg", "uvloop")
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except Exception:
            continue
    return f"Python {platform.python_version()}, " + ", ".join(found)


def pct(samples: list[float], q: int) -> float:
    """The q-th percentile (1..99) in milliseconds."""
    if len(samples) < 2:
        return samples[0] * MS if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * MS


def _rate(runs: list[queue.Throughput]) -> float:
    return statistics.median(r.per_second for r in runs)


def _pooled(runs: list[queue.Latency]) -> list[float]:
    return [s for r in runs for s in r.samples]


def _per_job(runs: list[queue.Throughput]) -> str:
    calls: Counter[str] = Counter()
    for r in runs:
        calls.update(r.calls)
    jobs = sum(r.jobs for r in runs)
    parts = [f"{name} {calls[name] / jobs:.2f}" for name in ("claim", "claim (empty)", "finish", "heartbeat")]
    return ", ".join(parts) + f"; total {sum(calls.values()) / jobs:.2f}"


def throughput_table(results: list[BackendResult]) -> list[str]:
    lines = [
        "| backend | workers | drain jobs/s | end to end jobs/s | raw writes jobs/s | drain ÷ raw | "
        "end to end ÷ raw | queue ms/job (drain) | raw ms/job |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        raw = statistics.median(r.raw_jobs)
        for workers, c in r.configs.items():
            drain, e2e = _rate(c.drain), _rate(c.end_to_end)
            lines.append(f"| {r.backend} | {workers} | {drain:.0f} | {e2e:.0f} | {raw:.0f} | {drain / raw:.2f} | "
                         f"{e2e / raw:.2f} | {MS / drain:.2f} | {MS / raw:.2f} |")
    return lines


def submit_table(results: list[BackendResult]) -> list[str]:
    lines = ["| backend | `submit()` /s | raw INSERT /s | submit ÷ raw | ms per submit | ms per raw INSERT |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        submit, raw = _rate(r.submit), statistics.median(r.raw_insert)
        lines.append(f"| {r.backend} | {submit:.0f} | {raw:.0f} | {submit / raw:.2f} | {MS / submit:.2f} | "
                     f"{MS / raw:.2f} |")
    return lines


def latency_table(results: list[BackendResult]) -> list[str]:
    lines = [
        "| backend | workers | idle p50 | idle p99 | load: offered jobs/s | load p50 | load p99 | "
        "raw UPDATE p50 | idle p50 ÷ raw UPDATE p50 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        raw50 = pct(r.raw_update, 50)
        for workers, c in r.configs.items():
            idle, load = _pooled(c.idle), _pooled(c.load)
            offered = statistics.median(x.rate or 0.0 for x in c.load)
            lines.append(f"| {r.backend} | {workers} | {pct(idle, 50):.2f} | {pct(idle, 99):.2f} | {offered:.0f} | "
                         f"{pct(load, 50):.2f} | {pct(load, 99):.2f} | {raw50:.2f} | {pct(idle, 50) / raw50:.1f} |")
    return lines


def calls_table(results: list[BackendResult]) -> list[str]:
    lines = ["| backend | workers | drain: store calls per job | end to end: store calls per job |",
             "| --- | ---: | --- | --- |"]
    for r in results:
        for workers, c in r.configs.items():
            lines.append(f"| {r.backend} | {workers} | {_per_job(c.drain)} | {_per_job(c.end_to_end)} |")
    return lines


def reading(results: list[BackendResult]) -> list[str]:
    notes: list[str] = []
    for r in results:
        raw = statistics.median(r.raw_jobs)
        one, four = r.configs[1], r.configs[4]
        d1, d4 = _rate(one.drain), _rate(four.drain)
        overhead = MS / d1 - MS / raw
        idle50, raw50 = pct(_pooled(one.idle), 50), pct(r.raw_update, 50)
        calls: Counter[str] = Counter()
        for t in four.end_to_end:
            calls.update(t.calls)
        empty = calls["claim (empty)"] / sum(t.jobs for t in four.end_to_end)
        notes.append(
            f"- **{r.version}**: one worker drains {d1:.0f} jobs/s against {raw:.0f} jobs/s for the bare "
            f"INSERT + 2 UPDATEs, so the queue costs {MS / d1:.2f} ms per job where the writes alone cost "
            f"{MS / raw:.2f} ms ({overhead:+.2f} ms: ORM sessions, RETURNING rows validated into JobRecords, "
            f"the SKIP LOCKED claim, the lease keeper and event tasks). Four workers drain {d4:.0f} jobs/s "
            f"({d4 / d1:.2f}x one worker). An idle pool starts a job {idle50:.2f} ms (p50) after `submit()` "
            f"returns, {idle50 / raw50:.1f}x one bare UPDATE ({raw50:.2f} ms). With four workers, submitting "
            f"while they run costs {empty:.2f} empty claims per job (every wake-up sends each idle worker "
            f"to the database)."
        )
    if len(results) == 2:
        lite, pg = results
        notes.append(
            f"- PostgreSQL ÷ SQLite, drain with one worker: {_rate(pg.configs[1].drain) / _rate(lite.configs[1].drain):.2f}; "
            f"with four: {_rate(pg.configs[4].drain) / _rate(lite.configs[4].drain):.2f}; idle submit-to-start p50: "
            f"{pct(_pooled(pg.configs[1].idle), 50) / pct(_pooled(lite.configs[1].idle), 50):.2f}."
        )
    notes += [
        "- Scale: a real image job runs for seconds to minutes, so a queue cost in milliseconds per job and a "
        "start latency in milliseconds are invisible next to it; what these figures bound is how many tiny "
        "jobs (thumbnails, fast upscales, workflow steps) one process can push through.",
        "- Limits of this run: one process, 2 cores shared by the benchmark, the event loop and (for "
        "PostgreSQL) the server; no network between them. More workers in one process share one event loop, "
        "and on SQLite one write lock, so they add little to a no-op queue: workers help when handlers wait "
        "on providers, which a no-op handler never does. Under load the latency includes queueing at the "
        "offered rate (half the drain rate), not only the queue's own cost.",
    ]
    return notes


def render(results: list[BackendResult], skipped: dict[str, str], options: Options, command: str) -> str:
    out = [
        "# Jobs queue overhead with a no-op model",
        "",
        f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine()}. Software: {software()}; event loop uvloop (what uvicorn picks).",
        "",
        "Databases: " + "; ".join(f"{r.version}" for r in results)
        + " (SQLite: a file, WAL, synchronous=NORMAL as the server sets it; PostgreSQL: a fresh database on "
        "127.0.0.1, dropped afterwards).",
        "",
        f"What runs: the real `JobService` + `WorkerPool` + `JobStore` at the server's pool timings (poll 1 s, "
        f"heartbeat 5 s), one model whose limit is the worker count, a handler that returns at once. "
        f"{options.jobs} jobs per throughput run, {options.samples} one-at-a-time latency samples, "
        f"{options.repeat} repeats (throughput: median of repeats; latency: percentiles of pooled samples). "
        "Baseline, same database, same run: bare SQLAlchemy Core statements by primary key, one transaction "
        "each (INSERT; UPDATE to running; UPDATE to succeeded).",
        "",
    ]
    for backend, reason in skipped.items():
        out += [f"**{backend} skipped**: {reason}", ""]
    out += ["## Throughput", "", "Drain: the jobs are queued first, then the pool starts. End to end: one client "
            "submits back to back while the pool runs (clock from first submit to last success).", ""]
    out += throughput_table(results) + ["", "### Submitting", ""] + submit_table(results)
    out += ["", "## Submit-to-start latency (ms)", "", "From `submit()` returning to the handler's first line. "
            "Idle: one job at a time, the next submitted once the last succeeded. Load: open-loop arrivals at "
            f"{options.load:g} x that configuration's drain rate.", ""]
    out += latency_table(results)
    out += ["", "## Store calls per job", ""] + calls_table(results)
    out += ["", "## Reading", ""] + reading(results) + [""]
    return "\n".join(out)
