"""The leaderboard: ratings per task, computed from the stored votes every time they are asked
for (so they can always be recomputed), and their CSV and JSON exports.

Votes from battles and comparisons count alike; excluded votes (a battle whose answer named its
own model) are left out and counted apart. Models that can be called now but have no votes are
listed as unrated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from easel.services.ratings import DEFAULT_ROUNDS, DEFAULT_SEED, rate
from easel.storage.tables import utcnow
from easel.storage.votes import VoteStore, VoteTask

CSV_COLUMNS = ("rank", "model", "rating", "ci_low", "ci_high", "votes", "wins", "losses", "ties", "win_rate")


class LeaderboardService:
    def __init__(self, *, votes: VoteStore, known_models: Callable[[VoteTask], list[str]]) -> None:
        self.votes = votes
        # The task's usable models, so that one with no votes shows as unrated.
        self.known_models = known_models

    async def compute(self, *, owner_id: str, task: VoteTask, rounds: int = DEFAULT_ROUNDS,
                      seed: int = DEFAULT_SEED) -> dict[str, Any]:
        every = await self.votes.list(owner_id=owner_id, task=task, include_excluded=True)
        counted = [vote for vote in every if not vote.excluded]
        ratings = rate([(v.model_a, v.model_b, v.outcome) for v in counted], models=self.known_models(task),
                       rounds=rounds, seed=seed)
        return {
            "object": "leaderboard",
            "task": task,
            "computed_at": utcnow().isoformat(),
            "votes": ratings.votes,
            "excluded_votes": len(every) - len(counted),
            "bootstrap_rounds": ratings.rounds,
            "seed": seed,
            "method": "Bradley-Terry (ties and both-bad count as half a win each), 95% bootstrap intervals",
            "models": [r.model_dump() for r in ratings.rated],
            "unrated": [r.model_dump() for r in ratings.unrated],
            "matrix": ratings.matrix,
        }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


def leaderboard_csv(board: dict[str, Any]) -> str:
    """One row per model, rated first (by rank), then unrated with empty ratings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in [*board["models"], *board["unrated"]]:
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()
