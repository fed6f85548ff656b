"""Simulator invariants: auction sanity, determinism, attribution convergence, oracle optimality."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from marketing.sandbox import oracle
from marketing.sandbox.accounts import Accounts
from marketing.sandbox.market import Market

from .conftest import TODAY


def _book(seed=1, today=TODAY, seller=0):
    market = Market(seed, Accounts(seed, "demo", None), today)
    return market, market.book(market.accounts.sellers[seller].profiles[0].profile_id)


@pytest.fixture(scope="module")
def history():
    market, book = _book()
    days = range(market.today_ordinal - 60, market.today_ordinal)
    return market, book, [(d, book.day(d)) for d in days]


def test_counts_and_prices_are_consistent(history):
    _, book, days = history
    for d, day in days:
        bids = book.bids(d)
        clicked = day.clicks > 0
        assert (day.clicks <= day.impressions).all()
        assert (np.bincount(day.ev_target, minlength=book.n) <= day.clicks).all()  # orders <= clicks
        assert (day.cost[clicked] / day.clicks[clicked] <= bids[clicked] + 1e-9).all()  # CPC <= bid
        assert (day.cost[~clicked] == 0).all()
        assert (day.impressions[~book.serving(d)] == 0).all()  # paused/archived/out of stock: nothing
    total_clicks = sum(int(day.clicks.sum()) for _, day in days)
    total_orders = sum(len(day.ev_target) for _, day in days)
    assert total_clicks > 500 and 0.03 < total_orders / total_clicks < 0.3  # realistic CVR


def test_targets_differ_in_profitability(history):
    """The demo account has profitable, wasteful and sparse targets for a product to find."""
    _, book, days = history
    cost = sum(day.cost for _, day in days)
    sales = sum(np.bincount(day.ev_target, weights=day.ev_sales, minlength=book.n) for _, day in days)
    clicks = sum(day.clicks for _, day in days)
    spenders = cost > 5
    acos = np.where(sales > 0, cost / np.maximum(sales, 1e-9), np.inf)
    assert (acos[spenders] < 0.2).sum() >= 5
    assert (acos[spenders] > 1.0).sum() >= 5
    assert ((clicks > 0) & (clicks < 5)).sum() >= 20


def test_weekday_seasonality(history):
    _, _, days = history
    weekday = np.zeros(7)
    for d, day in days:
        weekday[(d - 1) % 7] += day.impressions.sum()  # ordinal 1 is a Monday
    assert weekday[5:].mean() > weekday[:5].mean()


def test_same_seed_same_data_regardless_of_order():
    a_market, a = _book(seed=4)
    b_market, b = _book(seed=4)
    days = [a_market.today_ordinal - k for k in (3, 40, 90)]
    first = [a.day(d) for d in days]
    second = [b.day(d) for d in reversed(days)][::-1]
    for x, y in zip(first, second, strict=True):
        assert np.array_equal(x.impressions, y.impressions) and np.array_equal(x.cost, y.cost)
        assert np.array_equal(x.ev_sales, y.ev_sales)
    _, c = _book(seed=5)
    assert not np.array_equal(c.day(days[0]).impressions[:50], first[0].impressions[:50])


def test_attribution_grows_then_settles():
    market, book = _book(seed=2)
    d = market.today_ordinal - 1
    seen = []
    for _ in range(35):
        seen.append(
            {w: book.day(d).attributed(d, market.today_ordinal, w, book.n)["sales"].sum() for w in (1, 7, 14, 30)}
        )
        market.advance(1)
    for w in (7, 14, 30):
        series = [s[w] for s in seen]
        assert all(later >= earlier for earlier, later in zip(series, series[1:], strict=False))
        assert series[w - 1] == series[-1]  # nothing changes once the window is closed
    assert seen[0][7] < seen[-1][7]  # yesterday's sales were still coming in
    assert all(s[1] <= s[7] <= s[14] <= s[30] for s in seen)


def test_higher_bid_wins_at_least_as_many_impressions():
    """Same day, same luck: raising bids never loses impressions, clicks or orders (budgets aside)."""
    market, book = _book(seed=3)
    _, base = _book(seed=3)
    for b in (book, base):
        b.cat.c_budget[:] = 1e12  # take budget caps out of the comparison
    idx = np.flatnonzero(book.serving(market.today_ordinal))
    book.set_bids(idx, np.minimum(book.bids(market.today_ordinal)[idx] * 3, book.max_bid))
    market.advance(1)
    base.market.advance(1)
    d = market.today_ordinal - 1
    high, low = book.day(d), base.day(d)
    assert (high.impressions >= low.impressions).all()
    assert (high.clicks >= low.clicks).all()
    assert (np.bincount(high.ev_target, minlength=book.n) >= np.bincount(low.ev_target, minlength=book.n)).all()
    assert high.impressions.sum() > low.impressions.sum()
    assert (
        oracle.expected(book, book.bids(d))["impressions"] >= oracle.expected(base, base.bids(d))["impressions"]
    ).all()


def test_bid_changes_take_effect_from_today_and_keep_history():
    market, book = _book(seed=6)
    yesterday = market.today_ordinal - 1
    before = book.day(yesterday).impressions.copy()
    idx = np.flatnonzero(book.serving(market.today_ordinal))[:10]
    book.set_bids(idx, np.full(len(idx), book.min_bid))
    assert np.array_equal(book.day(yesterday).impressions, before)
    assert (book.bids(yesterday)[idx] != book.min_bid).any()
    assert (book.bids(market.today_ordinal)[idx] == book.min_bid).all()
    with pytest.raises(ValueError):
        book.day(market.today_ordinal)


def test_stock_runs_down_and_restocks():
    market, book = _book(seed=1)
    levels = np.array([book.retail.stock(d) for d in range(market.origin_ordinal, market.today_ordinal)])
    falls = (np.diff(levels, axis=0) < 0).mean()
    rises = (np.diff(levels, axis=0) > 0).sum()
    assert falls > 0.5 and rises > 0


def test_oracle_beats_random_bids_under_the_acos_cap():
    market, book = _book(seed=9)
    target = 0.25
    best = oracle.optimal_bids(book, target)
    ours = oracle.summary(book, best)
    assert ours["acos"] <= target + 1e-9
    assert ours["profit"] >= oracle.summary(book, book.bids(market.today_ordinal))["profit"]
    rng = np.random.default_rng(0)
    feasible = 0
    for _ in range(200):
        scale = rng.uniform(0.3, 2.0)
        bids = np.clip(best * rng.lognormal(0, 0.5, book.n) * scale, book.min_bid, book.max_bid)
        s = oracle.summary(book, bids)
        if s["acos"] is not None and s["acos"] <= target:
            feasible += 1
            assert s["profit"] <= ours["profit"] + 1e-6
    assert feasible >= 10
    tight = oracle.summary(book, oracle.optimal_bids(book, 0.08))
    assert tight["acos"] <= 0.08 + 1e-9 and tight["profit"] <= ours["profit"]


def test_history_is_long_enough_for_a_95_day_backfill():
    market, book = _book()
    assert market.today - market.origin >= timedelta(days=100)
    assert book.day(market.today_ordinal - 100).impressions.sum() > 0
