"""The shop behind the ads: organic demand, promotions and coupons, and FBA stock per product.

Stock follows *expected* sales (organic plus the ads' expected units at the catalog's bids) with a
simple reorder policy, so it is a pure function of the seed that can be extended day by day without
first simulating every auction. Products that run out stop selling and stop serving ads. Promotions
(Lightning Deals, Best Deals) and coupons cut the price and lift demand using the meta-analytic
short-term elasticity of about -3.6 (a 20 % cut ≈ +73 % units).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import numpy as np

from .accounts import derive_int
from .catalog import Catalog

ELASTICITY = 3.63
WEEKDAY = np.array([0.96, 0.97, 0.98, 0.98, 0.97, 1.05, 1.09])  # Monday first
WEEKDAY /= WEEKDAY.mean()


def season(d: int) -> float:
    """Demand multiplier of day ordinal d: weekday shape times a holiday bump in late Nov / Dec."""
    day = date.fromordinal(d)
    doy = day.timetuple().tm_yday
    return float(WEEKDAY[day.weekday()] * (1.0 + 0.3 * np.exp(-(((doy - 340) / 18.0) ** 2))))


@dataclass
class Promotion:
    kind: str  # LIGHTNING_DEAL | BEST_DEAL | COUPON
    product: int
    start: int  # first day (ordinal)
    end: int  # last day (ordinal, inclusive)
    discount: float  # fraction off the price
    ident: str
    amount_off: bool = False  # coupons: money off rather than percent off
    budget: float = 0.0

    @property
    def effective(self) -> float:
        """Average price cut over buyers: a Lightning Deal runs ~60 % of the day, half of coupon buyers clip."""
        share = {"LIGHTNING_DEAL": 0.6, "BEST_DEAL": 1.0, "COUPON": 0.5}[self.kind]
        return self.discount * share


class Retail:
    def __init__(self, seed: int, cat: Catalog, ad_units: np.ndarray):
        self.seed = seed
        self.cat = cat
        self.n = len(cat.price)
        self.pid = cat.profile.profile_id
        rng = np.random.default_rng(derive_int(seed, "retail", self.pid))
        self.origin = cat.origin.toordinal()
        self.rate = cat.organic + ad_units  # expected units/day
        self.lead = rng.integers(10, 26, self.n)
        self._stock = [np.floor(self.rate * rng.uniform(8, 80, self.n))]
        self._pending = np.full(self.n, -1, dtype=np.int64)  # arrival day of an open order, -1 if none
        self._pending_qty = np.zeros(self.n)
        self._lock = threading.Lock()
        self.promotions = self._promotions(rng)

    # -- promotions ---------------------------------------------------------------------------------
    def _promotions(self, rng) -> list[Promotion]:
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
                promo = Promotion(kind, p, day, day + length - 1, round(float(discount), 2), ident)
                if kind == "COUPON":
                    promo.amount_off = bool(rng.random() < 0.3)
                    promo.budget = float(np.round(self.rate[p] * length * self.cat.price[p] * 0.25 + 50 * fx, 0))
                out.append(promo)
                day += length + int(rng.integers(20, 70))
        return out

    def active_promotions(self, d: int) -> list[Promotion]:
        return [p for p in self.promotions if p.start <= d <= p.end]

    def promo_effect(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """(price factor, ads conversion lift) per product on day d."""
        price = np.ones(self.n)
        lift = np.ones(self.n)
        for p in self.active_promotions(d):
            price[p.product] = 1.0 - p.effective
            lift[p.product] = 1.0 + 2.0 * p.effective
        return price, lift

    def demand_lift(self, d: int) -> np.ndarray:
        lift = np.ones(self.n)
        for p in self.active_promotions(d):
            lift[p.product] = 1.0 + ELASTICITY * p.effective
        return lift

    # -- stock --------------------------------------------------------------------------------------
    def stock(self, d: int) -> np.ndarray:
        """Sellable units at the start of day d."""
        with self._lock:
            while self.origin + len(self._stock) - 1 < d:
                day = self.origin + len(self._stock) - 1
                level = self._stock[-1]
                arriving = self._pending == day
                level = level + np.where(arriving, self._pending_qty, 0.0)
                self._pending[arriving] = -1
                sold = self.rate * season(day) * self.demand_lift(day)
                level = np.maximum(0.0, np.floor(level - sold))
                reorder = (self._pending < 0) & (level < self.rate * 21)
                if reorder.any():
                    self._pending[reorder] = day + self.lead[reorder]
                    self._pending_qty[reorder] = np.ceil(self.rate[reorder] * 45) + 10
                self._stock.append(level)
            return self._stock[d - self.origin]

    def in_stock(self, d: int) -> np.ndarray:
        return self.stock(d) > 0

    def inbound(self, d: int) -> np.ndarray:
        """Units on an open replenishment order as of day d."""
        self.stock(d)
        with self._lock:
            return np.where(self._pending > d, self._pending_qty, 0.0)

    def organic_units(self, d: int) -> np.ndarray:
        """Units bought without an ad click on day d (stochastic, zero when out of stock)."""
        rng = np.random.default_rng(derive_int(self.seed, "organic", self.pid, d))
        lam = self.cat.organic * season(d) * self.demand_lift(d) * rng.lognormal(-0.02, 0.2, self.n)
        return np.floor(lam + rng.random(self.n)) * self.in_stock(d)
