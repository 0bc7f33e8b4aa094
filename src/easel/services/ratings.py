"""Ratings from pairwise votes: Bradley-Terry scores, bootstrap confidence intervals, win rates
and the pairwise win-rate matrix. Pure functions over plain tuples; no I/O.

Model. Each model i has a strength p_i > 0 and P(i beats j) = p_i / (p_i + p_j). The strengths
maximise the likelihood of the votes (Newton's method on the log-strengths).

Outcomes. "a" and "b" are a win for that side. "tie" counts as half a win for each side, the
usual Bradley-Terry treatment of draws; "both_bad" is scored the same as a tie: the voter
preferred neither answer, which says nothing about which one was better.

Regularisation. Every model also plays one virtual tie against a fixed pseudo-model of
strength 1. This small prior keeps the fit finite when a model won (or lost) every game and
when the comparison graph falls apart into pieces, where plain maximum likelihood diverges or
is not unique; with many votes its pull is negligible.

Scale. Ratings are on an Elo-like scale: 1000 + 400 * log10(p_i / g), g the geometric mean of
the rated models' strengths, so the average model sits at 1000 and 400 points are 10:1 odds.

Intervals. Votes are resampled with replacement (a seeded generator, so one set of votes
always gives the same intervals) and refitted; the 2.5th and 97.5th percentiles of each
model's rating are its 95% interval.

Models with no votes are "unrated": they are returned apart with no rating, never ranked last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel

Outcome = Literal["a", "b", "tie", "both_bad"]
Game = tuple[str, str, Outcome]  # (model_a, model_b, outcome)

BASE_RATING = 1000.0
SCALE = 400.0
PRIOR_GAMES = 1.0  # virtual tied games against the pseudo-model, per model
DEFAULT_ROUNDS = 200
DEFAULT_SEED = 20251125
_MAX_ITERATIONS = 100
_TOLERANCE = 1e-10

# How much of a win each side gets for each outcome.
_SCORE: dict[str, tuple[float, float]] = {"a": (1.0, 0.0), "b": (0.0, 1.0), "tie": (0.5, 0.5),
                                          "both_bad": (0.5, 0.5)}


class ModelRating(BaseModel):
    model: str
    rank: int | None
    rating: float | None
    ci_low: float | None
    ci_high: float | None
    votes: int
    wins: int
    losses: int
    ties: int
    win_rate: float | None  # wins plus half the ties, over votes


class Ratings(BaseModel):
    rated: list[ModelRating]  # best first
    unrated: list[ModelRating]  # models with no votes, by name
    matrix: dict[str, dict[str, float | None]]  # matrix[row][col]: row's win rate against col
    votes: int
    rounds: int


def _encode(games: Sequence[Game], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Games as arrays: side A's index, side B's index, side A's score (1, 0 or 0.5 for a tie)."""
    first = np.fromiter((index[g[0]] for g in games), dtype=np.intp, count=len(games))
    second = np.fromiter((index[g[1]] for g in games), dtype=np.intp, count=len(games))
    score = np.fromiter((_SCORE[g[2]][0] for g in games), dtype=float, count=len(games))
    return first, second, score


def _tally(encoded: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """wins[i, j]: i's score against j (ties as halves); played[i, j]: how often they met."""
    first, second, score = encoded
    wins = np.zeros((n, n))
    played = np.zeros((n, n))
    np.add.at(wins, (first, second), score)
    np.add.at(wins, (second, first), 1.0 - score)
    np.add.at(played, (first, second), 1.0)
    np.add.at(played, (second, first), 1.0)
    return wins, played


def fit_strengths(wins: np.ndarray, played: np.ndarray) -> np.ndarray:
    """Bradley-Terry log-strengths (natural log), with the pseudo-model prior; mean zero.

    Newton's method on the penalised log-likelihood, which the prior makes strictly concave;
    Hunter's MM iteration reaches the same optimum but crawls when the prior is all that pins
    the overall scale (thousands of steps against about ten here).
    """
    n = wins.shape[0]
    if n == 0:
        return np.zeros(0)
    total_wins = wins.sum(axis=1) + PRIOR_GAMES * 0.5
    logs = np.zeros(n)
    for _ in range(_MAX_ITERATIONS):
        p_win = 1.0 / (1.0 + np.exp(logs[None, :] - logs[:, None]))  # P(i beats j)
        p_prior = 1.0 / (1.0 + np.exp(-logs))  # P(i beats the pseudo-model)
        gradient = total_wins - (played * p_win).sum(axis=1) - PRIOR_GAMES * p_prior
        curvature = played * p_win * p_win.T
        hessian = curvature - np.diag(curvature.sum(axis=1) + PRIOR_GAMES * p_prior * (1.0 - p_prior))
        step = np.linalg.solve(hessian, gradient)
        step = np.clip(step, -2.0, 2.0)  # a damped first step from far away; never binds near the optimum
        logs = logs - step
        if np.max(np.abs(step)) < _TOLERANCE:
            break
    return logs - logs.mean()


def to_rating(log_strengths: np.ndarray) -> np.ndarray:
    return BASE_RATING + SCALE * log_strengths / np.log(10.0)


def rate(games: Iterable[Game], *, models: Iterable[str] = (), rounds: int = DEFAULT_ROUNDS,
         seed: int = DEFAULT_SEED) -> Ratings:
    """Rate every model that appears in `games`; `models` adds known models that may have no votes."""
    games = [game for game in games if game[0] != game[1]]
    voted = sorted({model for game in games for model in game[:2]})
    index = {model: i for i, model in enumerate(voted)}
    encoded = _encode(games, index)
    wins, played = _tally(encoded, len(index))
    ratings = to_rating(fit_strengths(wins, played))
    intervals = _bootstrap(encoded, len(index), rounds, seed)
    records: list[ModelRating] = []
    for model, i in index.items():
        votes = int(played[i].sum())
        tie_count = sum(1 for a, b, outcome in games if model in (a, b) and outcome in ("tie", "both_bad"))
        win_count = sum(1 for a, b, outcome in games if (outcome == "a" and a == model) or (outcome == "b" and b == model))
        low, high = (float(intervals[0][i]), float(intervals[1][i])) if intervals is not None else (None, None)
        records.append(ModelRating(model=model, rank=None, rating=float(ratings[i]), ci_low=low, ci_high=high,
                                   votes=votes, wins=win_count, losses=votes - win_count - tie_count, ties=tie_count,
                                   win_rate=float(wins[i].sum() / votes)))
    records.sort(key=lambda r: (-(r.rating or 0.0), r.model))
    rated = [r.model_copy(update={"rank": position}) for position, r in enumerate(records, start=1)]
    unrated = [ModelRating(model=model, rank=None, rating=None, ci_low=None, ci_high=None, votes=0, wins=0, losses=0,
                           ties=0, win_rate=None) for model in sorted(set(models) - set(voted))]
    return Ratings(rated=rated, unrated=unrated, matrix=win_rate_matrix(wins, played, [r.model for r in rated], index),
                   votes=len(games), rounds=rounds if intervals is not None else 0)


def _bootstrap(encoded: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, rounds: int,
               seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """2.5th and 97.5th percentiles of each model's rating over `rounds` resamples of the votes."""
    count = len(encoded[0])
    if rounds <= 0 or count == 0:
        return None
    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, n))
    for r in range(rounds):
        picks = rng.integers(0, count, size=count)
        wins, played = _tally((encoded[0][picks], encoded[1][picks], encoded[2][picks]), n)
        samples[r] = to_rating(fit_strengths(wins, played))
    return np.percentile(samples, 2.5, axis=0), np.percentile(samples, 97.5, axis=0)


def win_rate_matrix(wins: np.ndarray, played: np.ndarray, order: Sequence[str],
                    index: dict[str, int]) -> dict[str, dict[str, float | None]]:
    """matrix[row][col]: the share of row's games against col that row won (ties as halves); None if they never met."""
    matrix: dict[str, dict[str, float | None]] = {}
    for row in order:
        i = index[row]
        matrix[row] = {col: (float(wins[i, index[col]] / played[i, index[col]]) if played[i, index[col]] else None)
                       for col in order if col != row}
    return matrix
