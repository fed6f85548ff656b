"""Market shapes: every shape keeps the market's invariants, does what its name says, and has an oracle that
beats random and static bids on its own objective."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from marketing.sandbox import oracle
from marketing.sandbox.accounts import Accounts
from marketing.sandbox.market import Market
from marketing.sandbox.shapes import SHAPES
from marketing.sandbox.testing import running_sandbox

from .conftest import TODAY

pytestmark = pytest.mark.sqlite
DAYS = 21


def _book(market: str, seed: int = 7):
    m = Market(seed, Accounts(seed, "demo", 1), TODAY, market)
    return m, m.book(m.accounts.sellers[0].profiles[0].profile_id)


@cache
def _simulated(market_name: str):
    """Seed 7's first profile and its last `DAYS` days on one market, built once per test session."""
    market, book = _book(market_name)
    return market, book, [(d, book.day(d)) for d in range(market.today_ordinal - DAYS, market.today_ordinal)]


@pytest.fixture(params=list(SHAPES))
def simulated(request):
    return _simulated(request.param)


def _orders(book, day) -> np.ndarray:
    return np.bincount(day.ev_target, minlength=book.n)


def test_counts_and_prices_are_consistent(simulated):
    _, book, days = simulated
    for d, day in days:
        clicked = day.clicks > 0
        assert (day.clicks <= day.impressions).all()
        assert (_orders(book, day) <= day.clicks).all()
        assert (day.cost[clicked] / day.clicks[clicked] <= book.bids(d)[clicked] + 1e-9).all()  # CPC <= bid
        assert (day.cost[~clicked] == 0).all()
        assert (day.impressions[~book.serving(d)] == 0).all()
    clicks = sum(int(day.clicks.sum()) for _, day in days)
    orders = sum(len(day.ev_target) for _, day in days)
    assert clicks > 1000 and 0.02 < orders / clicks < 0.3


def test_same_seed_same_data(simulated):
    market, book, days = simulated
    _, again = _book(book.shape.name)
    _, other = _book(book.shape.name, seed=8)
    for d, day in days[::-1][:3]:
        twin = again.day(d)
        assert np.array_equal(day.impressions, twin.impressions) and np.array_equal(day.cost, twin.cost)
        assert np.array_equal(day.ev_lag, twin.ev_lag) and np.array_equal(day.ev_sales, twin.ev_sales)
    assert not np.array_equal(other.day(days[-1][0]).impressions[:50], days[-1][1].impressions[:50])


@pytest.mark.parametrize("objective", oracle.OBJECTIVES)
def test_oracle_beats_random_and_static_bids_on_its_objective(simulated, objective):
    market, book, _ = simulated
    target = 0.3
    key = "profit" if objective == "profit" else "sales"
    best = oracle.optimal_bids(book, target, objective)
    ours = oracle.summary(book, best)
    assert ours["acos"] <= target + 1e-9
    assert ours["budget_bound_campaigns"] == 0 or book.shape.classic  # the oracle never runs out of budget
    assert ours[key] >= oracle.summary(book, book.bids(market.today_ordinal))[key]  # static bids
    rng = np.random.default_rng(0)
    feasible = 0
    for _ in range(150):
        bids = np.clip(best * rng.lognormal(0, 0.5, book.n) * rng.uniform(0.3, 2.0), book.min_bid, book.max_bid)
        s = oracle.summary(book, bids)
        if s["acos"] is not None and s["acos"] <= target:
            feasible += 1
            assert s[key] <= ours[key] * (1 + 1e-3) + 1e-6
    assert feasible >= 10


def test_second_price_keeps_todays_data():
    """The default market is the original one: pinned totals of seed 1 (any change here changes old benchmarks).

    Moved once, by issue 13: promotions lift demand and the ads' conversion by a hidden per-ASIN elasticity
    (`retail.py`), which shifts stock-outs and orders on promotion days (was 1185 clicks, 116 orders, 1004.49)."""
    market, book = _book("second-price", seed=1)
    days = [book.day(d) for d in range(market.today_ordinal - 7, market.today_ordinal)]
    assert sum(int(d.clicks.sum()) for d in days) == 1187
    assert sum(len(d.ev_target) for d in days) == 118
    assert round(sum(float(d.cost.sum()) for d in days), 2) == 1002.35


def test_bid_share_charges_a_fixed_share_of_the_bid():
    _, book = _book("bid-share")
    bids = book.bids(book.market.today_ordinal)
    cpc = book.shape.cpc(book.cat, bids, book.min_bid, book.tick)
    double = book.shape.cpc(book.cat, bids * 2, book.min_bid, book.tick)
    above_floor = cpc > book.min_bid * 1.01
    assert np.allclose(double[above_floor], 2 * cpc[above_floor])  # CPC rises in proportion to the bid
    share = (cpc / bids)[above_floor]
    assert (share >= 0.55 - 1e-9).all() and (share <= 0.9 + 1e-9).all() and above_floor.mean() > 0.9
    second = _book("second-price")[1]
    assert (cpc / bids).mean() > (second.shape.cpc(second.cat, bids, book.min_bid, book.tick) / bids).mean()


def test_logistic_share_is_steep_and_saturates_below_one():
    _, book = _book("logistic")
    going = np.exp(book.cat.t_mu)
    low, mid, high = (book.shape.win(book.cat, going * k) for k in (0.4, 1.0, 3.0))
    assert (low < 0.1).mean() > 0.8 and (high > 0.9 * book.cat.t_top).all() and (high < 0.96).all()
    assert (low < mid).all() and (mid < high).all()
    cpc = book.shape.cpc(book.cat, going * 1.5, book.min_bid, book.tick)
    assert (cpc <= going * 1.5 + 1e-9).all() and (cpc > 0.5 * going).mean() > 0.9


def test_duds_take_clicks_and_never_convert():
    _, book, days = _simulated("duds")
    clicks = sum(day.clicks for _, day in days)
    orders = sum(_orders(book, day) for _, day in days)
    dud = book.cat.t_cvr <= 0.001
    assert 0.2 < dud.mean() < 0.4
    busy = clicks >= 20
    assert (busy & dud).sum() >= 10 and orders[busy & dud].sum() <= 0.01 * clicks[busy & dud].sum()
    groups_with_both = np.intersect1d(book.cat.t_group[dud & busy], book.cat.t_group[~dud & busy])
    assert len(groups_with_both) >= 5  # duds sit beside good targets: their ad group looks fine


def test_slow_lag_orders_arrive_days_later():
    market, book, days = _simulated("slow-lag")
    lags = np.concatenate([day.ev_lag for _, day in days])
    assert (lags == 0).mean() < 0.12 and np.median(lags) >= 3
    d, day = days[-1]
    seen = day.attributed(d, market.today_ordinal, 7, book.n)["purchases"].sum()
    final = day.attributed(d, market.today_ordinal + 7, 7, book.n)["purchases"].sum()
    assert seen < 0.2 * final


def test_budget_bound_campaigns_stop_when_the_budget_is_spent():
    market, book, days = _simulated("budget-bound")
    c = book.cat
    camp = c.t_campaign
    _, free = _book("budget-bound")
    free.cat.c_budget[:] = 1e12  # same luck, no budget
    stopped_days = np.zeros(len(c.c_id))
    for d, day in days:
        spend = np.bincount(camp, weights=day.cost, minlength=len(c.c_id))
        unlimited = free.day(d)
        wanted = np.bincount(camp, weights=unlimited.cost, minlength=len(c.c_id))
        assert (day.clicks <= unlimited.clicks).all()
        stopped = wanted > c.c_budget
        click_cost = np.where(day.clicks > 0, day.cost / np.maximum(day.clicks, 1), 0.0)
        last_click = np.zeros(len(c.c_id))
        np.maximum.at(last_click, camp, click_cost)
        assert (spend[stopped] >= 0.95 * c.c_budget[stopped]).all()  # it ran until the budget was spent …
        assert (spend[stopped] - last_click[stopped] < c.c_budget[stopped] + 1e-6).all()  # … and no further
        assert (spend[~stopped] == wanted[~stopped]).all()
        stopped_days += stopped
    assert (stopped_days >= 0.8 * len(days)).sum() >= 3  # some campaigns are budget-bound most days
    # at the margin a budget-bound campaign buys fewer clicks with a higher bid
    bids = book.bids(market.today_ordinal)
    bound = oracle.expected(book, bids)
    share = oracle._budget_share(book, oracle._per_target(book, bids)["cost"])
    raised = oracle.expected(book, bids * 1.2)
    assert (share < 1).sum() >= 3
    per_campaign = np.bincount(camp, raised["clicks"], len(c.c_id)) - np.bincount(camp, bound["clicks"], len(c.c_id))
    assert (per_campaign[share < 1] < 0).all()


def test_admin_names_the_market_and_serves_both_objectives():
    with running_sandbox(seed=4, today=TODAY, sellers=1, market="logistic") as sbx:
        assert sbx.admin.market()["name"] == "logistic"
        assert set(sbx.admin.market()["markets"]) == set(SHAPES)
        pid = sbx.sellers[0].profiles[0]["profileId"]
        profit = sbx.admin.oracle(pid, 0.3)
        growth = sbx.admin.oracle(pid, 0.3, objective="growth")
        assert profit["market"] == growth["market"] == "logistic" and growth["objective"] == "growth"
        assert growth["expected"]["sales"] >= profit["expected"]["sales"]
        assert profit["expected"]["profit"] >= growth["expected"]["profit"]
        assert growth["expected"]["acos"] <= 0.3 + 1e-9
        resp = sbx.admin._http.get("/_sandbox/oracle", params={"profileId": pid, "objective": "revenue"})
        assert resp.status_code == 400 and "objective" in resp.json()["error"]
    with running_sandbox(seed=4, today=TODAY, sellers=1) as sbx:
        assert sbx.admin.market()["name"] == "second-price"
