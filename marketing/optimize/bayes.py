"""Empirical-Bayes conversion rates: a target with 4 clicks and 0 orders is not a 0% keyword.

Each level borrows strength from the one above it: seller → campaign → ad group → target. A level's
prior is Beta(κ·m, κ·(1−m)) where m is the parent's posterior mean and κ (the prior strength, in
pseudo-clicks) is fitted by the method of moments from how far children's click-weighted CVRs scatter
around their parents' beyond binomial noise — one κ per level, pooled over all parents of that level,
so a campaign with two ad groups still gets a stable prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketing.optimize.special import beta_quantile


@dataclass(frozen=True)
class Posterior:
    """Per-target Beta posterior of the conversion rate, with the prior it came from."""

    prior_alpha: np.ndarray
    prior_beta: np.ndarray
    mean: np.ndarray
    low: np.ndarray  # (1 − confidence) quantile
    high: np.ndarray  # confidence quantile: "CVR is below this with that confidence"


def pooled_strength(
    successes: np.ndarray, trials: np.ndarray, parent: np.ndarray, *, min_strength: float, max_strength: float
) -> float:
    """Prior strength κ = α + β for children grouped under parents (method of moments, Kleinman 1973).

    With child CVRs drawn from Beta(mean m_p, strength κ) and ρ = 1/(κ+1), the click-weighted scatter
    S_p = Σ n_i (p̂_i − m̂_p)² has expectation m_p(1−m_p)·[ρ(N_p − Σn_i²/N_p) + (1−ρ)(k_p − 1)], which is
    solved for ρ after summing over parents. Too little data or no excess scatter → the bound it hits.
    """
    has = trials > 0
    s, n, p = successes[has], trials[has], parent[has]
    size = int(parent.max()) + 1 if parent.size else 0
    n_p = np.bincount(p, n, size)
    s_p = np.bincount(p, s, size)
    k_p = np.bincount(p, minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_p = s_p / n_p
        scatter = np.bincount(p, s * s / n, size) - n_p * m_p * m_p
        use = (k_p > 1) & (m_p > 0) & (m_p < 1)
        noise_df = (k_p[use] - 1).sum()
        signal_df = (n_p[use] - np.bincount(p, n * n, size)[use] / n_p[use]).sum() - noise_df
        excess = (scatter[use] / (m_p[use] * (1 - m_p[use]))).sum() - noise_df
    if signal_df <= 0:
        return float(min_strength)
    if excess <= 0:
        return float(max_strength)
    return float(np.clip(signal_df / excess - 1, min_strength, max_strength))  # κ = 1/ρ − 1


def conversion_posterior(
    clicks: np.ndarray,
    orders: np.ndarray,
    ad_group: np.ndarray,
    campaign: np.ndarray,
    *,
    prior_cvr: float,
    min_strength: float,
    max_strength: float,
    confidence: float,
) -> Posterior:
    """Hierarchical posterior CVR per target.

    `ad_group` and `campaign` are integer codes (0..n−1) per target; an ad group belongs to one campaign.
    Orders above clicks (multi-purchase attribution) count as one order per click. The seller's own
    mean is itself shrunk toward `prior_cvr` with `min_strength` pseudo-clicks, for sellers with no data.
    """
    clicks = np.asarray(clicks, dtype=float)
    orders = np.minimum(np.asarray(orders, dtype=float), clicks)
    strength = {"min_strength": min_strength, "max_strength": max_strength}

    seller_mean = (orders.sum() + prior_cvr * min_strength) / (clicks.sum() + min_strength)

    c_clicks, c_orders = np.bincount(campaign, clicks), np.bincount(campaign, orders)
    kappa = pooled_strength(c_orders, c_clicks, np.zeros(c_clicks.size, dtype=np.intp), **strength)
    c_mean = _shrink(c_orders, c_clicks, seller_mean, kappa)

    g_clicks, g_orders = np.bincount(ad_group, clicks), np.bincount(ad_group, orders)
    g_campaign = np.zeros(g_clicks.size, dtype=np.intp)
    g_campaign[ad_group] = campaign
    kappa = pooled_strength(g_orders, g_clicks, g_campaign, **strength)
    g_mean = _shrink(g_orders, g_clicks, c_mean[g_campaign], kappa)

    kappa = pooled_strength(orders, clicks, ad_group, **strength)
    prior_alpha = kappa * g_mean[ad_group]
    prior_beta = kappa - prior_alpha
    alpha, beta = prior_alpha + orders, prior_beta + clicks - orders
    return Posterior(
        prior_alpha=prior_alpha,
        prior_beta=prior_beta,
        mean=alpha / (alpha + beta),
        low=beta_quantile(1 - confidence, alpha, beta),
        high=beta_quantile(confidence, alpha, beta),
    )


def _shrink(successes, trials, prior_mean, strength):
    return (successes + strength * prior_mean) / (trials + strength)
