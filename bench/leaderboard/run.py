"""Leaderboard fit cost: Bradley-Terry fit and 200-round bootstrap over synthetic votes.

Votes are drawn from known strengths for `--models` models (seeded), then `rate()` is timed
with `rounds=0` (the fit, counts and matrix alone) and with the default bootstrap rounds, at
each vote count; the ratio is a GET's cost (fit and bootstrap) over the fit alone, both
measured in the same run. Writes bench/leaderboard/results.json; RESULTS.md records a run.

    .venv/bin/python -m bench.leaderboard.run --models 20 --votes 10000 50000
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from easel.services.ratings import DEFAULT_ROUNDS, Game, rate

HERE = Path(__file__).resolve().parent


def synthetic_votes(models: int, votes: int, seed: int = 7) -> list[Game]:
    rng = np.random.default_rng(seed)
    strength = np.linspace(-1.5, 1.5, models)
    pairs = rng.integers(0, models, size=(votes, 2))
    games: list[Game] = []
    for a, b in pairs:
        if a == b:
            b = (a + 1) % models
        p = 1 / (1 + np.exp(strength[b] - strength[a]))
        draw = rng.random()
        outcome = "tie" if draw > 0.9 else ("a" if draw < p * 0.9 else "b")
        games.append((f"m{a:02d}", f"m{b:02d}", outcome))  # type: ignore[arg-type]
    return games


def timed(games: list[Game], rounds: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        rate(games, rounds=rounds)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--votes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for count in args.votes:
        games = synthetic_votes(args.models, count)
        fit = timed(games, 0, args.repeats)
        full = timed(games, DEFAULT_ROUNDS, args.repeats)
        rows.append({"models": args.models, "votes": count, "fit_s": round(fit, 4), "fit_and_bootstrap_s": round(full, 4),
                     "bootstrap_s": round(full - fit, 4), "bootstrap_rounds": DEFAULT_ROUNDS,
                     "full_over_fit": round(full / fit, 1)})
        print(json.dumps(rows[-1]))
    result = {"machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}", "rows": rows}
    (HERE / "results.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
