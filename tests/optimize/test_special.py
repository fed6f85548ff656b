"""The numpy-only beta functions against exact rational arithmetic."""

import math
from fractions import Fraction

import numpy as np
import pytest

from marketing.optimize.special import beta_quantile, betainc, exact_beta_quantile, lgamma


def exact_betainc(a: int, b: int, x: float) -> float:
    """I_x(a, b) for integer a, b = P(Binomial(a + b − 1, x) ≥ a), in exact fractions."""
    n, p = a + b - 1, Fraction(x)
    return float(sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(a, n + 1)))


def test_lgamma_matches_the_standard_library():
    x = np.array([0.01, 0.5, 1, 2.5, 7, 30.3, 1e4, 1e6])
    assert np.allclose(lgamma(x), [math.lgamma(v) for v in x], rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize(("a", "b", "x"), [(1, 20, 0.05), (3, 50, 0.1), (2, 400, 0.001), (30, 400, 0.08), (1, 5, 0.9)])
def test_incomplete_beta_is_exact(a, b, x):
    assert betainc(a, b, x) == pytest.approx(exact_betainc(a, b, x), rel=1e-9)


def test_interpolated_quantiles_are_close_to_exact():
    rng = np.random.default_rng(1)
    a = np.exp(rng.uniform(np.log(0.3), np.log(500), 400))  # posteriors the engine sees: α ≥ prior, β ≥ a few
    b = np.exp(rng.uniform(np.log(3), np.log(2e5), 400))
    assert np.allclose(beta_quantile(0.95, a, b), exact_beta_quantile(0.95, a, b), rtol=1e-3)
    # lower bounds of tiny-α posteriors are ~1e-8: a few percent of that is invisible at 0.1% display
    assert np.allclose(beta_quantile(0.05, a, b), exact_beta_quantile(0.05, a, b), rtol=3e-2)


def test_quantile_beyond_the_table():
    a, b = np.array([0.8, 2000.0]), np.array([5e5, 20000.0])
    assert np.allclose(beta_quantile(0.95, a, b), exact_beta_quantile(0.95, a, b), rtol=1e-2)


def test_warming_the_bid_engine_builds_the_tables_its_runs_use():
    from marketing.optimize import bids
    from marketing.optimize.settings import BidSettings
    from marketing.optimize.special import _table

    _table.cache_clear()
    bids.warm(BidSettings(confidence=0.9))
    assert _table.cache_info().currsize == 2
    beta_quantile(0.9, np.array([2.0]), np.array([30.0]))
    beta_quantile(1 - 0.9, np.array([2.0]), np.array([30.0]))
    assert _table.cache_info().misses == 2 and _table.cache_info().hits >= 2
