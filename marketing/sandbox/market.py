"""The simulated ad market: a clock, one lazily built `Book` per profile, and day-by-day performance.

A day's performance is computed the first time anything needs it and cached; it depends only on the
seed, the day and the bids/states in force that day, never on the order of requests, so the same seed
gives the same data. Random numbers are drawn per (profile, day) in a fixed layout and counts come
from stochastic rounding of expectations, so two bid vectors see the *same* luck: a higher bid can
only win as many or more impressions, clicks and orders (until a campaign budget binds).

Attribution: each order gets a click-to-purchase lag. A report pulled when the market's today is t
shows, for click day d, the orders whose purchase day d + lag is before t and within the window
(1/7/14/30 d) — so recent days grow as the clock advances and stop changing once the window closes.

Bid and state changes made through the API are stored with the market day they take effect (today);
days already simulated (all before today) are never recomputed, so history stays as it was.

The market's shape (`shapes.py`, one per run) decides the auction, the conversion spread, the
click-to-purchase lag and how a budget stops traffic; `second-price` is the original market, unchanged.
"""

from __future__ import annotations

import copy
import math
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from .accounts import Accounts, Profile, derive_int
from .auction import ctr_at
from .catalog import ARCHIVED, ENABLED, Catalog, build
from .retail import DEFAULT_PROMO_SHAPE, Promotion, Retail, check_promo_shape, season
from .shapes import DEFAULT, Shape, shape

HISTORY_DAYS = 120
WINDOWS = (1, 7, 14, 30)
# P(extra units in an order ≤ k), Poisson(0.15): an order holds 1 + that many units
EXTRA_UNITS_CDF = np.cumsum([np.exp(-0.15) * 0.15**k / math.factorial(k) for k in range(8)])


def event_uniforms(key: int, target: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Four uniforms per order (lag, units, same product, other product), a hash of (day key, target, rank of
    the order within its target): a target's k-th order looks the same whatever the other targets sold, so a
    market with and without a promotion shares its luck (`Book.variant`)."""
    rank = np.arange(len(target), dtype=np.uint64) - np.repeat(np.cumsum(orders) - orders, orders).astype(np.uint64)
    x = np.uint64(key & 0xFFFFFFFFFFFFFFFF) ^ (target.astype(np.uint64) << np.uint64(20)) ^ rank
    x = x[:, None] * np.uint64(4) + np.arange(4, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        z = x * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x9E3779B97F4A7C15)  # splitmix64
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


@dataclass
class Day:
    """One simulated day of one profile. Per-target arrays plus one row per order ("events")."""

    impressions: np.ndarray
    clicks: np.ndarray
    cost: np.ndarray
    win: np.ndarray
    ev_target: np.ndarray
    ev_lag: np.ndarray
    ev_units: np.ndarray
    ev_sales: np.ndarray
    ev_same: np.ndarray
    ev_product: np.ndarray  # the product bought (the advertised one, or another for halo sales)

    def attributed(self, d: int, today: int, window: int, n: int) -> dict[str, np.ndarray]:
        """Orders known at `today` within `window` days of the click, summed per target."""
        visible = (self.ev_lag < min(window, today - d)) if today - d > 0 else np.zeros(len(self.ev_lag), bool)
        t = self.ev_target[visible]
        same = self.ev_same[visible]
        units = self.ev_units[visible]
        sales = self.ev_sales[visible]
        return {
            "purchases": np.bincount(t, minlength=n),
            "units": np.bincount(t, weights=units, minlength=n),
            "sales": np.bincount(t, weights=sales, minlength=n),
            "purchases_same": np.bincount(t[same], minlength=n),
            "units_same": np.bincount(t[same], weights=units[same], minlength=n),
            "sales_same": np.bincount(t[same], weights=sales[same], minlength=n),
        }


class Book:
    """One profile's catalog, change history and day cache."""

    def __init__(self, market: Market, profile: Profile, size_class: str):
        self.market = market
        self.profile = profile
        self.shape: Shape = market.shape
        self.cat: Catalog = build(market.seed, profile, size_class, market.origin, market.start, market.shape)
        self.retail = Retail(market.seed, self.cat, self._expected_ad_units(), market.start, market.promo_shape)
        self.n = len(self.cat.t_id)
        self._bid_events: list[tuple[int, np.ndarray, np.ndarray]] = []
        self._state_events: list[tuple[int, np.ndarray, np.ndarray]] = []
        self._days: dict[int, Day] = {}
        self._lock = threading.RLock()
        self.min_bid, self.max_bid = profile.bid_range
        self.tick = 1.0 if profile.fx >= 100 else 0.01

    # -- entity state as of a day -------------------------------------------------------------------
    def own_bids(self, d: int) -> np.ndarray:
        """Target bids in force on day d (NaN = inherit the ad group default)."""
        bids = self.cat.t_bid.copy()
        for day, idx, values in self._bid_events:
            if day <= d:
                bids[idx] = values
        return bids

    def bids(self, d: int) -> np.ndarray:
        own = self.own_bids(d)
        return np.where(np.isnan(own), self.cat.g_bid[self.cat.t_group], own)

    def target_states(self, d: int) -> np.ndarray:
        c = self.cat
        states = np.where(d < c.t_stop, ENABLED, c.t_state).astype(np.int8)
        for day, idx, values in self._state_events:
            if day <= d:
                states[idx] = values
        return states

    @staticmethod
    def _state_on(state: np.ndarray, stop: np.ndarray, d: int) -> np.ndarray:
        return np.where(d < stop, ENABLED, state)

    def campaign_states(self, d: int) -> np.ndarray:
        return self._state_on(self.cat.c_state, self.cat.c_stop, d)

    def group_states(self, d: int) -> np.ndarray:
        return self._state_on(self.cat.g_state, self.cat.g_stop, d)

    def ad_states(self, d: int) -> np.ndarray:
        return self._state_on(self.cat.ad_state, self.cat.ad_stop, d)

    def serving(self, d: int) -> np.ndarray:
        """Targets that enter auctions on day d: everything up the tree enabled, started, in stock."""
        c = self.cat
        camp_ok = (self.campaign_states(d) == ENABLED) & (c.c_start <= d)
        group_ok = (self.group_states(d) == ENABLED) & (self.ad_states(d) == ENABLED) & camp_ok[c.g_campaign]
        group_ok &= self.retail.in_stock(d)[c.g_product]
        return (self.target_states(d) == ENABLED) & group_ok[c.t_group]

    def set_bids(self, idx: np.ndarray, values: np.ndarray) -> None:
        with self._lock:
            self._bid_events.append((self.market.today_ordinal, idx, values))

    def set_states(self, idx: np.ndarray, values: np.ndarray) -> None:
        with self._lock:
            self._state_events.append((self.market.today_ordinal, idx, values))

    def variant(self, drop: str | None = None, add: Promotion | None = None) -> Book:
        """This market with one promotion left out and/or one more, under the same luck: days before the
        change are shared, later ones are simulated again when asked for (`promo_oracle`'s counterfactual)."""
        starts = [p.start for p in self.retail.promotions if p.ident == drop] + ([add.start] if add else [])
        first = min(starts, default=self.market.today_ordinal)
        twin = copy.copy(self)
        twin.retail = self.retail.variant(drop, add)
        twin._lock = threading.RLock()
        with self._lock:
            twin._days = {d: day for d, day in self._days.items() if d < first}
        return twin

    def archived(self) -> np.ndarray:
        return self.target_states(self.market.today_ordinal) == ARCHIVED

    # -- simulation ---------------------------------------------------------------------------------
    def day(self, d: int) -> Day:
        """Performance of day d (d < today). Cached: the first computation is the truth forever."""
        if d >= self.market.today_ordinal:
            raise ValueError("the market has not lived that day yet")
        with self._lock:
            cached = self._days.get(d)
            if cached is None:
                cached = self._days[d] = self._simulate(d)
            return cached

    def _simulate(self, d: int) -> Day:
        c, n = self.cat, self.n
        rng = np.random.default_rng(derive_int(self.market.seed, "day", self.profile.profile_id, d))
        u = rng.random((4, n))
        noise = rng.lognormal(-0.5 * 0.3**2, 0.3, size=(3, n))
        market_noise = rng.lognormal(-0.5 * 0.08**2, 0.08)
        bids = self.bids(d)
        live = self.serving(d)
        price_factor, cvr_lift = self.retail.effects(d)
        t_prod = c.t_product

        w = self.shape.win(c, bids)
        lam = c.t_demand * w * (season(d) * market_noise) * noise[0]
        impressions = np.floor(lam + u[0]) * live
        ctr = ctr_at(c.t_ctr, w)
        clicks = np.minimum(impressions, np.floor(impressions * ctr * noise[1] + u[1]))
        cpc = self.shape.cpc(c, bids, self.min_bid, self.tick) * (0.9 + 0.1 * u[2])
        cost = self._money_floor(clicks * cpc)

        # campaign daily budgets: traffic stops once the budget is spent
        camp = c.t_campaign
        spent = np.bincount(camp, weights=cost, minlength=len(c.c_id))
        if self.shape.classic:
            scale = np.minimum(1.0, c.c_budget / np.maximum(spent, 1e-9))[camp]
            capped = scale < 1.0
            if capped.any():
                impressions = np.where(capped, np.floor(impressions * scale), impressions)
                clicks = np.where(capped, np.minimum(impressions, np.floor(clicks * scale)), clicks)
                cost = np.where(capped, self._money_floor(clicks * cpc), cost)
        elif (spent > c.c_budget).any():
            impressions, clicks = self._stop_at_budget(d, impressions, clicks, cpc)
            cost = self._money_floor(clicks * cpc)

        cvr = np.minimum(0.95, c.t_cvr * cvr_lift[t_prod])
        orders = np.minimum(clicks, np.floor(clicks * cvr * noise[2] + u[3])).astype(np.int64)

        ev_target = np.repeat(np.arange(n, dtype=np.int32), orders)
        u_ev = event_uniforms(derive_int(self.market.seed, "orders", self.profile.profile_id, d), ev_target, orders)
        lag_cdf = np.cumsum(self.shape.lag)
        ev_lag = np.minimum(np.searchsorted(lag_cdf, u_ev[:, 0] * lag_cdf[-1], side="right"), len(lag_cdf) - 1)
        ev_lag = ev_lag.astype(np.int16)
        ev_units = (1 + np.searchsorted(EXTRA_UNITS_CDF, u_ev[:, 1], side="right")).astype(np.int16)
        ev_same = u_ev[:, 2] < 0.88
        other = np.minimum((u_ev[:, 3] * len(c.price)).astype(np.int64), len(c.price) - 1)
        ev_product = np.where(ev_same, t_prod[ev_target], other)
        ev_sales = self._money_round(ev_units * c.price[ev_product] * price_factor[ev_product])
        return Day(
            impressions=impressions.astype(np.int32),
            clicks=clicks.astype(np.int32),
            cost=cost,
            win=w.astype(np.float32),
            ev_target=ev_target,
            ev_lag=ev_lag,
            ev_units=ev_units,
            ev_sales=ev_sales,
            ev_same=ev_same,
            ev_product=ev_product,
        )

    def _stop_at_budget(self, d: int, impressions: np.ndarray, clicks: np.ndarray, cpc: np.ndarray):
        """Cut each over-budget campaign's day at the moment its budget is spent.

        Traffic runs through the day at the same pace for all of a campaign's targets; the day ends at the
        smallest share s of it whose clicks (each target's clicks × s, stochastically rounded) cost at least
        the budget, so the click that crosses the budget is the last one charged."""
        c = self.cat
        camp, n_c = c.t_campaign, len(c.c_id)
        rng = np.random.default_rng(derive_int(self.market.seed, "budget", self.profile.profile_id, d))
        u = rng.random((2, self.n))

        def clicks_at(share: np.ndarray) -> np.ndarray:
            return np.minimum(clicks, np.floor(clicks * share[camp] + u[0]))

        over = np.bincount(camp, weights=clicks * cpc, minlength=n_c) > c.c_budget
        lo, hi = np.zeros(n_c), np.ones(n_c)
        for _ in range(40):
            mid = (lo + hi) / 2
            enough = np.bincount(camp, weights=clicks_at(mid) * cpc, minlength=n_c) >= c.c_budget
            hi, lo = np.where(enough, mid, hi), np.where(enough, lo, mid)
        share = np.where(over, hi, 1.0)
        cut = clicks_at(share)
        seen = np.maximum(np.floor(impressions * share[camp] + u[1]), cut)
        capped = over[camp]
        return np.where(capped, np.minimum(seen, impressions), impressions), np.where(capped, cut, clicks)

    def _money_floor(self, x: np.ndarray) -> np.ndarray:
        q = 1.0 if self.profile.fx >= 100 else 100.0
        return np.floor(x * q + 1e-9) / q

    def _money_round(self, x: np.ndarray) -> np.ndarray:
        return np.round(x, 0 if self.profile.fx >= 100 else 2)

    def _expected_ad_units(self) -> np.ndarray:
        """Expected daily ad-driven units per product at the catalog's bids (drives stock run-down)."""
        c = self.cat
        bids = np.where(np.isnan(c.t_bid), c.g_bid[c.t_group], c.t_bid)
        w = self.shape.win(c, bids)
        orders = c.t_demand * w * ctr_at(c.t_ctr, w) * c.t_cvr * (c.t_state == ENABLED)
        return np.bincount(c.t_product, weights=orders * 1.15, minlength=len(c.price))

    def ad_units_by_purchase_day(self, d: int) -> np.ndarray:
        """Units per product bought on day d through ads (clicks up to 29 days earlier), credited to the
        product bought (halo sales to the other product), as Sales & Traffic counts them."""
        c = self.cat
        units = np.zeros(len(c.price))
        first = max(self.market.origin_ordinal, d - len(self.shape.lag) + 1)
        for click_day in range(first, d + 1):
            day = self.day(click_day)
            hit = day.ev_lag == d - click_day
            if hit.any():
                units += np.bincount(day.ev_product[hit], weights=day.ev_units[hit], minlength=len(units))
        return units


class Market:
    """The clock and the books. `today` is the day in progress: data exists for days before it."""

    def __init__(
        self,
        seed: int,
        accounts: Accounts,
        today: date | None,
        market: str = DEFAULT,
        promo_shape: str = DEFAULT_PROMO_SHAPE,
    ):
        self.seed = seed
        self.accounts = accounts
        self.shape = shape(market)
        self.promo_shape = check_promo_shape(promo_shape)
        self.today = today or datetime.now(UTC).date()
        self.start = self.today  # catalogs are laid out relative to the first day, whenever built
        self.origin = self.today - timedelta(days=HISTORY_DAYS)
        self._books: dict[int, Book] = {}
        self._lock = threading.Lock()

    @property
    def today_ordinal(self) -> int:
        return self.today.toordinal()

    @property
    def origin_ordinal(self) -> int:
        return self.origin.toordinal()

    def advance(self, days: int) -> date:
        if days < 0:
            raise ValueError("the market clock only moves forward")
        self.today += timedelta(days=days)
        return self.today

    def set_today(self, day: date) -> date:
        if day < self.today:
            raise ValueError("the market clock only moves forward")
        self.today = day
        return self.today

    def book(self, profile_id: int) -> Book:
        with self._lock:
            book = self._books.get(profile_id)
            if book is None:
                profile = self.accounts.profiles[profile_id]
                size = self.accounts.sellers[profile.seller_index].size
                book = self._books[profile_id] = Book(self, profile, size)
            return book
