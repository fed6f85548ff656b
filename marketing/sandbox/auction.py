"""The auction every target enters each day, in closed form so it vectorises over 100k targets.

The best competing bid for a target is log-normal(mu, sigma). A bid b wins with probability
w(b) = Phi((ln b - mu) / sigma) — rising with diminishing returns — and pays the expected competing
bid given that it won plus one cent (a second-price auction), never more than b itself. Click-through
improves with w (better slots). Both the simulator and the oracle use these functions, so the
oracle's expectations are the simulator's means.

Other market shapes (`shapes.py`) swap the auction: `share_cpc` (the price paid is a share of the bid)
and `logistic_win` / `logistic_cpc` (competing bids with a logistic CDF on the bid's linear scale, and a
ceiling on the share of auctions a target can enter at all).
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


def share_cpc(bid: np.ndarray, share: np.ndarray, min_bid: float) -> np.ndarray:
    """A fixed share of the bid, floored at the marketplace minimum, capped at the bid."""
    return np.minimum(bid, np.maximum(min_bid, share * bid))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _logistic_cdf(bid: np.ndarray, mid: np.ndarray, steep: np.ndarray) -> np.ndarray:
    """P(best competing bid < bid): a logistic in bid / mid with slope `steep`, renormalised to start at 0."""
    at0 = 1.0 / (1.0 + np.exp(steep))
    raw = 1.0 / (1.0 + np.exp(-steep * (np.maximum(bid, 0.0) / mid - 1.0)))
    return (raw - at0) / (1.0 - at0)


def logistic_win(bid: np.ndarray, mid: np.ndarray, steep: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Impression share: `top` (the most a target can win) times the logistic CDF of competing bids."""
    return top * _logistic_cdf(bid, mid, steep)


def logistic_cpc(bid: np.ndarray, mid: np.ndarray, steep: np.ndarray, min_bid: float, tick: float) -> np.ndarray:
    """Second price under logistic competition: E[X | X < bid] + tick = bid − ∫₀^bid F / F(bid) + tick."""
    b = np.maximum(bid, 1e-9)
    at0 = 1.0 / (1.0 + np.exp(steep))
    integral = (mid / steep * (_softplus(steep * (b / mid - 1.0)) - _softplus(-steep)) - b * at0) / (1.0 - at0)
    f = _logistic_cdf(b, mid, steep)
    second = np.where(f > 1e-12, b - integral / np.maximum(f, 1e-12), min_bid)
    return np.minimum(bid, np.maximum(min_bid, second + tick))
