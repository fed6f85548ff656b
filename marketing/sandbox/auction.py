"""The auction every target enters each day, in closed form so it vectorises over 100k targets.

The best competing bid for a target is log-normal(mu, sigma). A bid b wins with probability
w(b) = Phi((ln b - mu) / sigma) — rising with diminishing returns — and pays the expected competing
bid given that it won plus one cent (a second-price auction), never more than b itself. Click-through
improves with w (better slots). Both the simulator and the oracle use these functions, so the
oracle's expectations are the simulator's means.
"""

from __future__ import annotations

import numpy as np

_SQRT2 = np.sqrt(2.0)


def erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7); numpy has no erf and scipy is not a dependency."""
    x = np.asarray(x, dtype=np.float64)
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    y = 1.0 - poly * np.exp(-a * a)
    return s * y


def phi(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF."""
    return 0.5 * (1.0 + erf(np.asarray(z) / _SQRT2))


def win_rate(bid: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return phi((np.log(np.maximum(bid, 1e-9)) - mu) / sigma)


def cost_per_click(bid: np.ndarray, mu: np.ndarray, sigma: np.ndarray, min_bid: float, tick: float) -> np.ndarray:
    """Expected second price E[X | X < bid] + tick, floored at the marketplace minimum, capped at bid."""
    lb = np.log(np.maximum(bid, 1e-9))
    w = phi((lb - mu) / sigma)
    num = np.exp(mu + sigma * sigma / 2.0) * phi((lb - mu - sigma * sigma) / sigma)
    second = np.where(w > 1e-12, num / np.maximum(w, 1e-12), min_bid)
    return np.minimum(bid, np.maximum(min_bid, second + tick))


def ctr_at(ctr: np.ndarray, win: np.ndarray) -> np.ndarray:
    """Winning more auctions means better placements, so CTR rises with the win rate."""
    return ctr * (0.55 + 0.45 * win)
