"""Queue overhead with a no-op model: `python -m bench.jobs.run` (about 2 minutes on 2 cores).

On SQLite and on PostgreSQL (a fresh database each, dropped afterwards), with 1 and 4
workers: jobs/s (queued backlog drained; submit-and-run end to end), submit-to-start p50/p99
(one job at a time on an idle pool; `--samples` open-loop arrivals at half the drain rate), and, in the
same run and on the same database, the raw cost of the writes a job needs (bare SQLAlchemy
Core: INSERT, UPDATE, UPDATE) so the ratios show what the queue adds. Each measurement is
repeated `--repeat` times, interleaved with the baseline; throughputs are medians over the
repeats, latency percentiles are over all samples pooled. Writes RESULTS.md next to this file
(or to --out). Loopback only; every measurement has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.jobs import baseline, queue
from bench.jobs.databases import Backend, clear_jobs, fresh_database, postgres_unavailable, server_version
from bench.jobs.report import render

HERE = Path(__file__).resolve().parent
WORKERS = (1, 4)


@dataclass
class ConfigResult:
    """One backend with one worker count: every repeat's figures."""

    drain: list[queue.Throughput] = field(default_factory=list)
    end_to_end: list[queue.Throughput] = field(default_factory=list)
    idle: list[queue.Latency] = field(default_factory=list)
    load: list[queue.Latency] = field(default_factory=list)


@dataclass
class BackendResult:
    backend: Backend
    version: str = ""
    raw_insert: list[float] = field(default_factory=list)  # jobs/s
    raw_claim_finish: list[float] = field(default_factory=list)  # jobs/s
    raw_jobs: list[float] = field(default_factory=list)  # jobs/s
    store_drain: list[float] = field(default_factory=list)  # jobs/s
    raw_statements: dict[str, list[float]] = field(default_factory=dict)  # seconds, pooled samples
    store_calls: dict[str, list[float]] = field(default_factory=dict)  # seconds, pooled samples
    submit: list[queue.Throughput] = field(default_factory=list)
    configs: dict[int, ConfigResult] = field(default_factory=lambda: {w: ConfigResult() for w in WORKERS})


@dataclass
class Options:
    jobs: int
    samples: int
    repeat: int
    load: float
    backends: list[Backend]
    out: Path
    load_before: str = ""  # the load average when the run began


def extend(into: dict[str, list[float]], samples: dict[str, list[float]]) -> None:
    for name, values in samples.items():
        into.setdefault(name, []).extend(values)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def bench_backend(backend: Backend, options: Options) -> BackendResult:
    result = BackendResult(backend)
    with tempfile.TemporaryDirectory(prefix="easel-bench-jobs-") as workdir:
        async with fresh_database(backend, Path(workdir)) as database:
            result.version = await server_version(database)
            await baseline.job_writes(database, 50)  # warm the engine, the plans and the disk
            await clear_jobs(database)
            for rep in range(1, options.repeat + 1):
                log(f"{backend}: repeat {rep}/{options.repeat}")
                result.raw_insert.append(options.jobs / await baseline.insert_rate(database, options.jobs))
                await clear_jobs(database)
                seconds = await baseline.claim_finish_rate(database, options.jobs)
                result.raw_claim_finish.append(options.jobs / seconds)
                await clear_jobs(database)
                result.raw_jobs.append(options.jobs / await baseline.job_writes(database, options.jobs))
                await clear_jobs(database)
                result.store_drain.append(options.jobs / await queue.store_drain(database, options.jobs))
                await clear_jobs(database)
                extend(result.raw_statements, await baseline.statement_latency(database, options.samples))
                await clear_jobs(database)
                extend(result.store_calls, await queue.store_latency(database, options.samples))
                await clear_jobs(database)
                result.submit.append(await queue.submit_rate(database, options.jobs))
                await clear_jobs(database)
                for workers in WORKERS:
                    config = result.configs[workers]
                    config.drain.append(await queue.drain(database, options.jobs, workers))
                    await clear_jobs(database)
                    config.end_to_end.append(await queue.end_to_end(database, options.jobs, workers))
                    await clear_jobs(database)
                    config.idle.append(await queue.latency(database, options.samples, workers))
                    await clear_jobs(database)
                    rate = options.load * config.drain[-1].per_second
                    config.load.append(await queue.latency(database, options.samples, workers, rate=rate))
                    await clear_jobs(database)
                    log(f"  {workers} worker(s): drain {config.drain[-1].per_second:.0f} jobs/s, "
                        f"end to end {config.end_to_end[-1].per_second:.0f} jobs/s")
    return result


async def main(options: Options) -> int:
    options.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results: list[BackendResult] = []
    skipped: dict[str, str] = {}
    for backend in options.backends:
        if backend == "postgresql" and (reason := postgres_unavailable()) is not None:
            log(f"skipping PostgreSQL: {reason}")
            skipped[backend] = reason
            continue
        results.append(await bench_backend(backend, options))
    command = "python -m bench.jobs.run " + " ".join(sys.argv[1:])
    options.out.write_text(render(results, skipped, options, command.strip()))
    log(f"wrote {options.out}")
    return 0


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs per throughput run (default 500)")
    parser.add_argument("--samples", type=int, default=200, help="one-at-a-time latency samples (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of every measurement (default 3)")
    parser.add_argument("--load", type=float, default=0.5, help="open-loop rate as a fraction of drain (0.5)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    backends: list[Backend] = []
    for name in args.backends.split(","):
        if name == "sqlite" or name == "postgresql":
            backends.append(name)
        else:
            parser.error(f"unknown backend {name!r}")
    if not (1 <= args.jobs <= 100_000 and 1 <= args.samples <= 10_000 and 1 <= args.repeat <= 20):
        parser.error("--jobs 1..100000, --samples 1..10000, --repeat 1..20")
    if not 0 < args.load < 1:
        parser.error("--load is a fraction between 0 and 1")
    return Options(args.jobs, args.samples, args.repeat, args.load, backends, args.out)


def run() -> int:
    options = parse()
    try:
        import uvloop  # the loop uvicorn picks when it is installed, as it is for `easel serve`
    except ImportError:
        return asyncio.run(main(options))
    return uvloop.run(main(options))


if __name__ == "__main__":
    raise SystemExit(run())
