"""What the promotions benchmarks share: an in-process sandbox, the seller's data as the product would hold it,
promotions entered as a person enters them, and the sandbox's money.

* the history is built from the sandbox's own report functions: `spdocs.retail_day` (Sales & Traffic by child
  ASIN, one report per day: units, ordered sales, parent ASIN), the FBA inventory the product reads each day
  (`retail.stock(d)`, what `/fba/inventory/v1/summaries` answers on day d) and the ad spend per advertised ASIN;
* windows (past coupons and deals) come from `spdocs.coupons` / `spdocs.promotions`, the documents behind
  GET_COUPON_PERFORMANCE_REPORT and GET_PROMOTION_PERFORMANCE_REPORT: a coupon's discount as stated, a deal's
  unknown (the engine reads the observed price drop), the fee from the reported sales and redemptions;
* promotions are entered with `promotions.enter` — the function behind `POST /_sandbox/promotions`;
* money: `profit_by_day` is what the seller keeps per day (sales after referral, minus unit cost and FBA fee,
  minus ad spend), in US dollars (÷ the marketplace's rate), and `fee_of` the fee Amazon charges a promotion
  (`promo_oracle`'s fees, the guide's US fees scaled to the currency).
"""

from __future__ import annotations

import sys
import time
import weakref
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's marketing, not an installed one
from marketing.optimize.promotions import Fee as EngineFee  # noqa: E402
from marketing.sandbox import promo_oracle, promotions  # noqa: E402
from marketing.sandbox.catalog import REFERRAL  # noqa: E402
from marketing.sandbox.market import Book  # noqa: E402
from marketing.sandbox.retail import PROMO_SHARE, Promotion  # noqa: E402
from marketing.sandbox.spdocs import coupons, retail_day  # noqa: E402
from marketing.sandbox.spdocs import promotions as deal_report
from marketing.sandbox.state import Sandbox  # noqa: E402

SHAPES = ("constant", "linear", "pull-forward", "cannibalisation")


def sandbox(seed: int, shape: str, today: date) -> Sandbox:
    """A demo-size sandbox (3 sellers × 2 marketplaces, 6–10 ASINs each) with the run's promotion shape."""
    return Sandbox(seed=seed, size="demo", sellers=None, report_delay=0.0, admin_key=None, today=today,
                   redirect_uris={}, wall_clock=time.time, promo_shape=shape)


def books(sb: Sandbox) -> list[tuple[int, Book]]:
    """(seller index, book) for every marketplace of every sandbox seller."""
    return [(s.index, sb.market.book(p.profile_id)) for s in sb.accounts.sellers for p in s.seller_marketplaces]


def day_of(ordinal: int) -> date:
    return date.fromordinal(int(ordinal))


_DAYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # book → {day: its rows}: lived days never change


def history(book: Book, first: int, last: int) -> pd.DataFrame:
    """The engine's `daily` for days first … last (ordinals, inclusive; last < the market's today)."""
    c = book.cat
    n = len(c.asin)
    known = _DAYS.setdefault(book, {})
    for d in range(first, last + 1):
        if d not in known:
            r = retail_day(book, d)
            spend = np.bincount(c.t_product, weights=book.day(d).cost, minlength=n)
            known[d] = (r["units"], r["sales"], book.retail.stock(d) > 0, spend)
    days = range(first, last + 1)
    column = {name: np.concatenate([known[d][k] for d in days])
              for k, name in enumerate(("units", "sales", "in_stock", "ad_spend"))}
    return pd.DataFrame({"asin": np.tile(c.asin, len(days)), "parent_asin": np.tile(c.parent_asin, len(days)),
                         "date": np.repeat([day_of(d) for d in days], n), **column})


def fee_table(book: Book) -> dict[str, promo_oracle.Fee]:
    return promo_oracle.default_fees(book.profile.fx)


def engine_fees(book: Book) -> dict[str, EngineFee]:
    """The same fees as the engine's `Fee` (what the product's fee table holds for the marketplace)."""
    return {kind: EngineFee(fixed=f.fixed, per_day=f.per_day, per_redemption=f.per_redemption,
                            variable_pct=f.variable_pct, variable_cap=f.variable_cap)
            for kind, f in fee_table(book).items()}


def windows(book: Book) -> pd.DataFrame:
    """Every coupon and deal the reports show as started before today (history and entered), as the engine's
    windows: key, type, asin, start, end, discount (coupons: stated; deals: NaN), fee (from reported figures)."""
    first, today, fees = book.market.origin_ordinal - 400, book.market.today_ordinal, fee_table(book)
    rows = []
    for c in coupons(book, first, today, "M"):
        start, end = date.fromisoformat(c["startDateTime"][:10]), date.fromisoformat(c["endDateTime"][:10])
        fee = promo_oracle.promotion_fee(fees["COUPON"], days=(end - start).days + 1, sales=c["sales"],
                                         redemptions=c["redemptions"])
        for a in c["asins"]:
            price = float(book.cat.price[book.cat.asin.index(a["asin"])])
            discount = (c["discountAmount"] / price if c["discountType"] == "AMOUNT_OFF_LIST_PRICE"
                        else c["discountAmount"] / 100)
            rows.append((c["couponId"], "COUPON", a["asin"], start, end, discount, fee))
    for p in deal_report(book, first, today, {}, "M"):
        start, end = date.fromisoformat(p["startDateTime"][:10]), date.fromisoformat(p["endDateTime"][:10])
        fee = promo_oracle.promotion_fee(fees[p["type"]], days=(end - start).days + 1, sales=p["revenue"],
                                         redemptions=0.0)
        rows += [(p["promotionId"], p["type"], i["asin"], start, end, np.nan, fee) for i in p["includedProducts"]]
    return pd.DataFrame(rows, columns=["key", "type", "asin", "start", "end", "discount", "fee"])


def economics(book: Book) -> pd.DataFrame:
    """Price, unit cost, referral fee (fraction) and FBA fee per ASIN, as the seller enters them."""
    c = book.cat
    return pd.DataFrame({"asin": c.asin, "price": c.price, "unit_cost": c.unit_cost,
                         "referral_pct": REFERRAL, "fba_fee": c.fees - REFERRAL * c.price})


def inventory(book: Book) -> pd.Series:
    """Fulfillable FBA units today, as the inventory summaries report them."""
    return pd.Series(np.floor(book.retail.stock(book.market.today_ordinal)), index=book.cat.asin, dtype=float)


def inventory_history(book: Book, first: int, last: int) -> pd.DataFrame:
    """Fulfillable and inbound FBA units per ASIN and day, first … last (ordinals), as the product's daily inventory
    rows hold them (`/fba/inventory/v1/summaries` on each day: `retail.stock(d)`, `retail.inbound(d)`)."""
    c, days = book.cat, range(first, last + 1)
    return pd.DataFrame({"asin": np.tile(c.asin, len(days)), "date": np.repeat([day_of(d) for d in days], len(c.asin)),
                         "fulfillable": np.concatenate([np.floor(book.retail.stock(d)) for d in days]),
                         "inbound": np.concatenate([book.retail.inbound(d) for d in days])})


def enter(sb: Sandbox, seller: int, book: Book, *, kind: str, asin: str, start: date, end: date, percent=None,
          amount=None, budget=None) -> Promotion:
    """Enter a promotion through the admin API's own function (`promotions.enter`)."""
    body = {"seller": seller, "marketplace_id": book.profile.marketplace_id, "type": kind, "asins": [asin],
            "discount_type": "AMOUNT_OFF_LIST_PRICE" if amount is not None else "PERCENT_OFF_LIST_PRICE",
            "discount_amount": amount if amount is not None else round(percent, 4),
            "start": start.isoformat(), "end": end.isoformat(), "budget": budget}
    _, promo = promotions.enter(sb, body, "admin")
    return promo


def profit_by_day(book: Book, first: int, last: int) -> np.ndarray:
    """(days, products): sales after referral − units × (unit cost + FBA) − ad spend, in USD."""
    c = book.cat
    unit = c.unit_cost + c.fees - REFERRAL * c.price
    out = []
    for d in range(first, last + 1):
        r = retail_day(book, d)
        spend = np.bincount(c.t_product, weights=book.day(d).cost, minlength=len(c.asin))
        out.append(r["sales"] * (1 - REFERRAL) - r["units"] * unit - spend)
    return np.array(out) / book.profile.fx


def stock_by_day(book: Book, first: int, last: int) -> np.ndarray:
    return np.array([book.retail.stock(d) for d in range(first, last + 1)])


def fee_of(book: Book, promo: Promotion) -> float:
    """Amazon's fee for an entered promotion, in USD, from the units bought at its price (coupons: redemptions)."""
    idx = np.asarray(promo.products)
    at_price = np.zeros(len(idx))
    for d in range(promo.start, min(promo.end, book.market.today_ordinal - 1) + 1):
        if book.retail.on(promo, d):
            at_price += retail_day(book, d)["units"][idx] * PROMO_SHARE[promo.kind]
    sales = float((at_price * book.cat.price[idx] * (1 - np.asarray(promo.cut))).sum())
    redemptions = float(at_price.sum()) if promo.kind == "COUPON" else 0.0
    fee = promo_oracle.promotion_fee(fee_table(book)[promo.kind], days=promo.days, sales=sales,
                                     redemptions=redemptions)
    return fee / book.profile.fx


def weeks_after(day: date, weeks: int) -> date:
    return day + timedelta(days=7 * weeks)
