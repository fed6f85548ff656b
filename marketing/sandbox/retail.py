"""The shop behind the ads: organic demand, promotions and coupons, and FBA stock per product.

Stock follows *expected* sales (organic plus the ads' expected units at the catalog's bids, times the
day's demand multiplier) with a simple reorder policy, so it is a pure function of the seed and of the
promotions entered, extended day by day without first simulating every auction. Products that run out
stop selling and stop serving ads.

Promotions (Lightning Deals, Best Deals, coupons) cut the price paid and lift demand — organic units and
the ads' conversion alike — by the product's hidden promotional elasticity (about -3.6, the guide's
meta-analytic value, with a spread per ASIN); a coupon turns off once the discount it is expected to have
given reaches its budget. The sandbox seller's own promotions are history: they start
before the sandbox's first day. From then on promotions come from people (`promotions.py`: the admin API
and the Seller Central pages). How demand answers a promotion is the run's promotion shape
(`PROMO_SHAPES`, `marketing sandbox --promo-shape`).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from datetime import date

import numpy as np

from .accounts import derive_int
from .catalog import Catalog

PRIOR_ELASTICITY = -3.6
WEEKDAY = np.array([0.96, 0.97, 0.98, 0.98, 0.97, 1.05, 1.09])  # Monday first
WEEKDAY /= WEEKDAY.mean()
PROMO_SHAPES = {
    "constant": "constant elasticity: units × (1 − cut)^elasticity while a promotion runs",
    "linear": "linear demand: units × (1 + |elasticity| × cut) while a promotion runs",
    "pull-forward": "constant elasticity, then a dip after the end that takes back half the extra units",
    "cannibalisation": "constant elasticity; sibling ASINs (same parent) lose half the extra units meanwhile",
}
DEFAULT_PROMO_SHAPE = "constant"
PULL_FORWARD = 0.5  # share of a promotion's extra units that the following weeks lose (pull-forward)
DIP_DAYS = 28
DIP_WEIGHTS = np.exp(-np.arange(DIP_DAYS) / 7.0) / np.exp(-np.arange(DIP_DAYS) / 7.0).sum()
CANNIBALISED = 0.5  # share of a promotion's extra units taken from its siblings (cannibalisation)
# Share of a promotion's buyers who pay the promotional price: a Lightning Deal runs ~60 % of the day,
# half of a coupon's buyers clip it.
PROMO_SHARE = {"LIGHTNING_DEAL": 0.6, "BEST_DEAL": 1.0, "COUPON": 0.5}


def season(d: int) -> float:
    """Demand multiplier of day ordinal d: weekday shape times a holiday bump in late Nov / Dec."""
    day = date.fromordinal(d)
    doy = day.timetuple().tm_yday
    return float(WEEKDAY[day.weekday()] * (1.0 + 0.3 * np.exp(-(((doy - 340) / 18.0) ** 2))))


def check_promo_shape(name: str) -> str:
    if name not in PROMO_SHAPES:
        raise ValueError(f"unknown promotion shape {name!r}; choose one of {', '.join(PROMO_SHAPES)}")
    return name


@dataclass(frozen=True)
class Promotion:
    kind: str  # LIGHTNING_DEAL | BEST_DEAL | COUPON
    products: tuple[int, ...]
    start: int  # first day (ordinal)
    end: int  # last day (ordinal, inclusive)
    cut: tuple[float, ...]  # fraction off the list price, per product
    ident: str
    amount_off: float | None = None  # money off per unit when entered as an amount (coupons)
    budget: float | None = None  # coupons
    entered: str = ""  # "" for the seller's own (history), else "admin" or "seller-central"
    created: int = 0  # day ordinal it was entered

    @property
    def share(self) -> float:
        return PROMO_SHARE[self.kind]

    @property
    def effective(self) -> np.ndarray:
        """Average price cut over all buyers, per product."""
        return np.asarray(self.cut) * self.share

    @property
    def days(self) -> int:
        return self.end - self.start + 1


class Retail:
    def __init__(self, seed: int, cat: Catalog, ad_units: np.ndarray, start: date, shape: str = DEFAULT_PROMO_SHAPE):
        self.seed = seed
        self.cat = cat
        self.shape = check_promo_shape(shape)
        self.n = len(cat.price)
        self.pid = cat.profile.profile_id
        rng = np.random.default_rng(derive_int(seed, "retail", self.pid))
        self.origin = cat.origin.toordinal()
        self.rate = cat.organic + ad_units  # expected units/day
        self.lead = rng.integers(10, 26, self.n)
        self._levels = [np.floor(self.rate * rng.uniform(8, 80, self.n))]  # sellable at the start of each day
        self._orders = [(np.full(self.n, -1, dtype=np.int64), np.zeros(self.n))]  # (arrival day or -1, quantity)
        self._lock = threading.RLock()
        self._effects: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._spent: dict[tuple[str, int], float] = {}  # (coupon, day): expected discount given before that day
        # hidden per-ASIN elasticity, the same in all of a seller's marketplaces
        erng = np.random.default_rng(derive_int(seed, "elasticity", cat.profile.seller_index))
        self.elasticity = -np.clip(erng.normal(-PRIOR_ELASTICITY, 0.8, self.n), 1.5, 6.5)
        parents = np.array(cat.parent_asin)
        self.siblings = [np.flatnonzero((parents == parents[p]) & (np.arange(self.n) != p)) for p in range(self.n)]
        first_day = start.toordinal()
        self.promotions = [p for p in self._history(rng) if p.start < first_day]
        self._index()

    # -- promotions ---------------------------------------------------------------------------------
    def _history(self, rng) -> list[Promotion]:
        out: list[Promotion] = []
        horizon = self.origin + 600
        fx = self.cat.profile.fx
        for p in range(self.n):
            day = self.origin + int(rng.integers(0, 40))
            while day < horizon:
                kind = ("LIGHTNING_DEAL", "BEST_DEAL", "COUPON")[int(rng.choice(3, p=[0.35, 0.25, 0.4]))]
                length = {"LIGHTNING_DEAL": 1, "BEST_DEAL": 7, "COUPON": int(rng.integers(10, 31))}[kind]
                discount = {
                    "LIGHTNING_DEAL": rng.uniform(0.15, 0.3),
                    "BEST_DEAL": rng.uniform(0.1, 0.25),
                    "COUPON": rng.uniform(0.05, 0.2),
                }[kind]
                ident = f"{derive_int(self.seed, 'promo', self.pid, p, day):x}"[:12]
                cut = round(float(discount), 2)
                amount = budget = None
                if kind == "COUPON":
                    if rng.random() < 0.3:
                        amount = round(float(self.cat.price[p] * cut), 0 if fx >= 100 else 2)
                    budget = float(np.round(self.rate[p] * length * self.cat.price[p] * 0.25 + 50 * fx, 0))
                out.append(Promotion(kind, (p,), day, day + length - 1, (cut,), ident, amount, budget))
                day += length + int(rng.integers(20, 70))
        return out

    def _index(self) -> None:
        self._starts = np.array([p.start for p in self.promotions], dtype=np.int64)
        self._ends = np.array([p.end for p in self.promotions], dtype=np.int64)

    def add(self, promo: Promotion) -> None:
        """Enter a promotion: days from its start on are simulated again (earlier days never change)."""
        with self._lock:
            self.promotions = [*self.promotions, promo]
            self._index()
            self._forget(promo.start)

    def _forget(self, start: int) -> None:
        self._effects = {d: e for d, e in self._effects.items() if d < start}
        self._spent = {k: v for k, v in self._spent.items() if k[1] <= start}
        keep = max(1, start - self.origin + 1)
        del self._levels[keep:], self._orders[keep:]

    def variant(self, drop: str | None = None, add: Promotion | None = None) -> Retail:
        """The same shop with one promotion left out and/or one more: a counterfactual for `promo_oracle`."""
        with self._lock:
            twin = copy.copy(self)
            twin._lock = threading.RLock()
            twin.promotions = [p for p in self.promotions if p.ident != drop] + ([add] if add else [])
            twin._effects, twin._spent = dict(self._effects), dict(self._spent)
            twin._levels, twin._orders = list(self._levels), list(self._orders)
            changed = [p.start for p in self.promotions if p.ident == drop] + ([add.start] if add else [])
        twin._index()
        if changed:
            twin._forget(min(changed))
        return twin

    def active_promotions(self, d: int) -> list[Promotion]:
        """Promotions on during day d: within their dates, and coupons with budget left."""
        within = [self.promotions[i] for i in np.flatnonzero((self._starts <= d) & (self._ends >= d))]
        return [p for p in within if self.on(p, d)]

    def on(self, promo: Promotion, d: int) -> bool:
        """Whether buyers see the promotion on day d: within its dates and, for a coupon, budget left."""
        return promo.start <= d <= promo.end and (promo.budget is None or self.spent(promo, d) < promo.budget)

    def spent(self, coupon: Promotion, d: int) -> float:
        """Expected discount a coupon has given before day d (its redemptions × its discount per unit): once
        it reaches the budget, Amazon turns the coupon off."""
        with self._lock:
            k = d
            while k > coupon.start and (coupon.ident, k) not in self._spent:
                k -= 1
            total = self._spent.setdefault((coupon.ident, k), 0.0)
            idx = np.asarray(coupon.products)
            per_unit = self.cat.price[idx] * np.asarray(coupon.cut)
            while k < d:
                if total < (coupon.budget or np.inf):
                    total += float((self.expected_units(k)[idx] * coupon.share * per_unit).sum())
                k += 1
                self._spent[(coupon.ident, k)] = total
            return total

    def lift(self, products: np.ndarray, effective: np.ndarray) -> np.ndarray:
        """Demand multiplier of the promoted products while the promotion runs (the run's shape)."""
        e = self.elasticity[products]
        if self.shape == "linear":
            return 1.0 + np.abs(e) * effective
        return (1.0 - effective) ** e

    def effects(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """(price factor, demand multiplier) per product on day d. The price factor is the average share
        of the list price buyers pay; the multiplier applies to organic units and to the ads' conversion."""
        with self._lock:
            cached = self._effects.get(d)
            if cached is not None:
                return cached
            price, lift = np.ones(self.n), np.ones(self.n)
            for promo in self.active_promotions(d):
                idx, eff = np.asarray(promo.products), promo.effective
                up = self.lift(idx, eff)
                price[idx] = 1.0 - eff
                lift[idx] *= up
                if self.shape == "cannibalisation":  # only while the promoted product is there to buy
                    extras = (up - 1.0) * self.rate[idx] * (self.stock(d)[idx] > 0)
                    for p, extra in zip(idx.tolist(), extras.tolist(), strict=True):
                        sib = np.setdiff1d(self.siblings[p], idx)
                        if len(sib) and extra > 0:
                            lift[sib] *= 1.0 - min(0.9, CANNIBALISED * extra / self.rate[sib].sum())
            if self.shape == "pull-forward":
                for i in np.flatnonzero((self._ends < d) & (self._ends >= d - DIP_DAYS)):
                    promo = self.promotions[i]
                    idx = np.asarray(promo.products)
                    extra = (self.lift(idx, promo.effective) - 1.0) * promo.days
                    lift[idx] *= np.maximum(0.1, 1.0 - PULL_FORWARD * extra * DIP_WEIGHTS[d - promo.end - 1])
            self._effects[d] = (price, lift)
            return price, lift

    # -- stock --------------------------------------------------------------------------------------
    def stock(self, d: int) -> np.ndarray:
        """Sellable units at the start of day d."""
        with self._lock:
            while self.origin + len(self._levels) - 1 < d:
                day = self.origin + len(self._levels) - 1
                pending, qty = self._orders[-1]
                arriving = pending == day
                level = self._levels[-1] + np.where(arriving, qty, 0.0)
                pending = np.where(arriving, -1, pending)
                level = np.maximum(0.0, np.floor(level - self.demand(day)))
                reorder = (pending < 0) & (level < self.rate * 21)
                if reorder.any():
                    pending = np.where(reorder, day + self.lead, pending)
                    qty = np.where(reorder, np.ceil(self.rate * 45) + 10, qty)
                self._levels.append(level)
                self._orders.append((pending, qty))
            return self._levels[d - self.origin]

    def demand(self, d: int) -> np.ndarray:
        """Expected units demanded on day d (organic plus ads at the catalog's bids), stock aside."""
        return self.rate * season(d) * self.effects(d)[1]

    def expected_units(self, d: int) -> np.ndarray:
        """Expected units sold on day d: demand, as far as the day's opening stock goes."""
        return np.minimum(self.demand(d), self.stock(d))

    def in_stock(self, d: int) -> np.ndarray:
        return self.stock(d) > 0

    def inbound(self, d: int) -> np.ndarray:
        """Units on an open replenishment order as of day d."""
        self.stock(d)
        with self._lock:
            pending, qty = self._orders[d - self.origin]
            return np.where(pending > d, qty, 0.0)

    def organic_units(self, d: int) -> np.ndarray:
        """Units bought without an ad click on day d (stochastic, zero when out of stock)."""
        rng = np.random.default_rng(derive_int(self.seed, "organic", self.pid, d))
        lam = self.cat.organic * season(d) * self.effects(d)[1] * rng.lognormal(-0.02, 0.2, self.n)
        return np.floor(lam + rng.random(self.n)) * self.in_stock(d)
