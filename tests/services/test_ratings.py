"""Bradley-Terry ratings: recover known strengths from synthetic votes, ties, unrated models,
intervals, regularised corner cases, the win-rate matrix."""

from __future__ import annotations

import random

import pytest

from easel.services.ratings import Game, rate

STRENGTHS = {"m-alpha": 8.0, "m-bravo": 4.0, "m-charlie": 2.0, "m-delta": 1.0, "m-echo": 0.5}


def synthetic_votes(strengths: dict[str, float], count: int, *, seed: int, tie_share: float = 0.0) -> list[Game]:
    """Votes drawn from known Bradley-Terry strengths: a random pair, then the winner by p_i / (p_i + p_j)."""
    rng = random.Random(seed)
    names = sorted(strengths)
    games: list[Game] = []
    for _ in range(count):
        a, b = rng.sample(names, 2)
        if rng.random() < tie_share:
            games.append((a, b, rng.choice(["tie", "both_bad"])))
        else:
            games.append((a, b, "a" if rng.random() < strengths[a] / (strengths[a] + strengths[b]) else "b"))
    return games


def test_fitted_scores_recover_the_order_of_known_strengths() -> None:
    ratings = rate(synthetic_votes(STRENGTHS, 2000, seed=1), rounds=50)
    assert [r.model for r in ratings.rated] == sorted(STRENGTHS, key=lambda m: -STRENGTHS[m])
    assert [r.rank for r in ratings.rated] == [1, 2, 3, 4, 5]
    assert ratings.votes == 2000
    # Each step halves the strength: log10(2) * 400 ~ 120 points apart.
    gaps = [a.rating - b.rating for a, b in zip(ratings.rated, ratings.rated[1:])]  # type: ignore[operator]
    assert all(80 < gap < 160 for gap in gaps), gaps
    assert sum(r.rating for r in ratings.rated) / 5 == pytest.approx(1000.0)  # type: ignore[misc]


def test_ties_count_as_half_a_win_and_keep_the_order() -> None:
    games = synthetic_votes(STRENGTHS, 2000, seed=2, tie_share=0.3)
    ratings = rate(games, rounds=20)
    assert [r.model for r in ratings.rated] == sorted(STRENGTHS, key=lambda m: -STRENGTHS[m])
    for record in ratings.rated:
        assert record.wins + record.losses + record.ties == record.votes
        assert record.ties > 0
    only_ties = rate([("x", "y", "tie")] * 10 + [("x", "y", "both_bad")] * 10, rounds=10)
    x, y = only_ties.rated
    assert x.rating == pytest.approx(y.rating) == pytest.approx(1000.0)
    assert x.win_rate == 0.5 and x.ties == 20 and x.wins == 0 and x.losses == 0


def test_a_model_with_no_votes_is_unrated_not_last() -> None:
    ratings = rate([("x", "y", "a"), ("y", "x", "b"), ("x", "y", "b")], models=["x", "y", "z-new"], rounds=10)
    assert [r.model for r in ratings.rated] == ["x", "y"]
    [unrated] = ratings.unrated
    assert unrated.model == "z-new" and unrated.rating is None and unrated.rank is None and unrated.votes == 0
    assert unrated.win_rate is None
    assert "z-new" not in ratings.matrix


def test_intervals_contain_the_fit_and_widen_with_fewer_votes() -> None:
    many = rate(synthetic_votes(STRENGTHS, 2000, seed=3), rounds=100)
    few = rate(synthetic_votes(STRENGTHS, 100, seed=3), rounds=100)
    for record in many.rated + few.rated:
        assert record.ci_low is not None and record.ci_high is not None
        assert record.ci_low <= record.rating <= record.ci_high  # type: ignore[operator]
    width = {r.model: r.ci_high - r.ci_low for r in many.rated}  # type: ignore[operator]
    for record in few.rated:
        assert record.ci_high - record.ci_low > width[record.model]  # type: ignore[operator]


def test_intervals_are_reproducible_for_the_same_votes() -> None:
    games = synthetic_votes(STRENGTHS, 300, seed=4)
    assert rate(games, rounds=30) == rate(games, rounds=30)


def test_a_model_that_won_every_game_gets_a_finite_rating() -> None:
    ratings = rate([("champ", "x", "a")] * 20 + [("y", "champ", "b")] * 20 + [("x", "y", "a"), ("y", "x", "tie")],
                   rounds=20)
    top = ratings.rated[0]
    assert top.model == "champ" and top.win_rate == 1.0
    assert 1000 < top.rating < 2000  # type: ignore[operator]
    assert top.ci_high is not None and top.ci_high < 2500


def test_disconnected_groups_converge_and_order_within_each_group() -> None:
    games: list[Game] = [("a1", "a2", "a")] * 15 + [("a2", "a1", "a")] * 5 + [("b1", "b2", "a")] * 12 + [("b2", "b1", "a")] * 8
    ratings = rate(games, rounds=20)
    rating = {r.model: r.rating for r in ratings.rated}
    assert rating["a1"] > rating["a2"] and rating["b1"] > rating["b2"]  # type: ignore[operator]
    assert all(800 < value < 1200 for value in rating.values())  # type: ignore[operator]


def test_pairwise_win_rate_matrix() -> None:
    games: list[Game] = [("x", "y", "a"), ("x", "y", "a"), ("y", "x", "a"), ("x", "y", "tie"), ("x", "z", "b")]
    ratings = rate(games, rounds=0)
    assert ratings.matrix["x"]["y"] == pytest.approx(2.5 / 4)
    assert ratings.matrix["y"]["x"] == pytest.approx(1.5 / 4)
    assert ratings.matrix["z"]["x"] == 1.0
    assert ratings.matrix["y"]["z"] is None  # never met
    assert all(r.ci_low is None for r in ratings.rated)  # no bootstrap rounds asked for


def test_no_votes_at_all() -> None:
    ratings = rate([], models=["a", "b"])
    assert ratings.rated == [] and [r.model for r in ratings.unrated] == ["a", "b"] and ratings.votes == 0
