"""Empirical-Bayes conversion rates."""

import numpy as np
import pytest

from marketing.optimize.bayes import conversion_posterior, pooled_strength

OPTIONS = {"prior_cvr": 0.1, "min_strength": 10, "max_strength": 300, "confidence": 0.95}


def posterior(clicks, orders, ad_group=None, campaign=None):
    n = len(clicks)
    zeros = np.zeros(n, dtype=np.intp)
    return conversion_posterior(
        np.array(clicks, float),
        np.array(orders, float),
        zeros if ad_group is None else np.array(ad_group),
        zeros if campaign is None else np.array(campaign),
        **OPTIONS,
    )


def test_four_clicks_without_orders_is_not_a_zero_cvr():
    post = posterior([4] + [50] * 20, [0] + [5] * 20)
    assert 0.05 < post.mean[0] < 0.10  # pulled toward the ad group's 10%, a little below it
    assert post.high[0] > 0.1


def test_interval_contains_the_mean_and_narrows_with_data():
    clicks = np.array([10, 100, 1000, 10000])
    post = posterior(list(clicks) + [50] * 20, list(clicks // 10) + [5] * 20)
    assert np.all((post.low <= post.mean) & (post.mean <= post.high))
    assert np.all(np.diff((post.high - post.low)[:4]) < 0)


def test_targets_shrink_toward_their_own_ad_group():
    # two ad groups, 5% and 20% CVR; a new target in each borrows its own group's rate
    clicks = [100] * 10 + [100] * 10 + [0, 0]
    orders = [5] * 10 + [20] * 10 + [0, 0]
    group = [0] * 10 + [1] * 10 + [0, 1]
    post = posterior(clicks, orders, ad_group=group)
    assert post.mean[-2] == pytest.approx(0.05, abs=0.01)
    assert post.mean[-1] == pytest.approx(0.20, abs=0.02)


def test_strength_recovers_the_simulated_dispersion():
    rng = np.random.default_rng(0)
    kappa, groups = 50, 400
    parent = np.repeat(np.arange(groups), 25)
    cvr = rng.beta(0.1 * kappa, 0.9 * kappa, parent.size)
    trials = rng.integers(20, 400, parent.size).astype(float)
    successes = rng.binomial(trials.astype(int), cvr).astype(float)
    fitted = pooled_strength(successes, trials, parent, min_strength=1, max_strength=10_000)
    assert fitted == pytest.approx(kappa, rel=0.15)


def test_strength_bounds():
    parent = np.zeros(3, dtype=np.intp)
    same = pooled_strength(
        np.array([10.0, 10, 10]), np.array([100.0, 100, 100]), parent, min_strength=5, max_strength=99
    )
    assert same == 99  # no scatter beyond binomial noise: trust the parent as much as allowed
    lone = pooled_strength(np.array([1.0]), np.array([10.0]), parent[:1], min_strength=5, max_strength=99)
    assert lone == 5  # nothing to learn the scatter from
