"""The jobs benchmark: queue overhead with a no-op handler, on SQLite and PostgreSQL.

`python -m bench.jobs.run` measures the real `JobService` / `WorkerPool` / `JobStore`
(throughput and submit-to-start latency, 1 and 4 workers) against the raw cost of the same
database writes made with bare SQLAlchemy Core, and writes `RESULTS.md` next to this file.
"""
