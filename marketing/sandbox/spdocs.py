"""SP-API report documents built from the market: sales & traffic, promotions, coupons, inventory.

Sales & traffic per ASIN = organic units + units bought through ad clicks (on their purchase day),
so a marketplace's total sales are always at least its ad-attributed sales. Promotion and coupon
figures are the units sold while they ran. Shapes follow Amazon's JSON Schemas for
GET_SALES_AND_TRAFFIC_REPORT, GET_PROMOTION_PERFORMANCE_REPORT and GET_COUPON_PERFORMANCE_REPORT.
"""

from __future__ import annotations

import threading
import weakref
from datetime import date, timedelta

import numpy as np

from .accounts import derive_int
from .market import Book
from .retail import Promotion

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def retail_day(book: Book, d: int) -> dict[str, np.ndarray]:
    """Per-product units, sales, sessions, page views, refunds and ad clicks of day d (memoised)."""
    with _LOCK:
        days = _CACHE.setdefault(book, {})
        if d in days:
            return days[d]
    c = book.cat
    rng = np.random.default_rng(derive_int(book.market.seed, "retail-day", book.profile.profile_id, d))
    n = len(c.price)
    ad_units = book.ad_units_by_purchase_day(d)
    units = book.retail.organic_units(d) + ad_units
    price, lift = book.retail.effects(d)
    sales = np.round(units * c.price * price, 0 if book.profile.fx >= 100 else 2)
    ad_clicks = np.bincount(c.t_product, weights=book.day(d).clicks, minlength=n)
    usp = 0.09 + 0.06 * ((np.arange(n) * 7919) % 10) / 10.0  # unit session rate per product
    browse = book.cat.organic * lift / usp
    sessions = np.floor(browse * rng.lognormal(0, 0.15, n) + rng.random(n)) + ad_clicks
    sessions = np.maximum(sessions, units)
    page_views = np.floor(sessions * rng.uniform(1.15, 1.6, n))
    data = {
        "units": units,
        "ad_units": ad_units,
        "sales": sales,
        "items": np.ceil(units / 1.12),
        "sessions": sessions,
        "mobile_sessions": np.floor(sessions * 0.64),
        "page_views": page_views,
        "mobile_page_views": np.floor(page_views * 0.62),
        "refunds": rng.binomial(units.astype(np.int64), 0.03),
        "buy_box": np.round(rng.uniform(94.0, 100.0, n), 2),
    }
    with _LOCK:
        _CACHE[book][d] = data
    return data


def _amount(value: float, currency: str) -> dict:
    return {"amount": round(float(value), 2), "currencyCode": currency}


def _buckets(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    """Reporting periods covering [start, end], widened to whole Sun–Sat weeks or calendar months."""
    if granularity == "WEEK":
        first = start - timedelta(days=(start.weekday() + 1) % 7)
        out = []
        while first <= end:
            out.append((first, first + timedelta(days=6)))
            first += timedelta(days=7)
        return out
    if granularity == "MONTH":
        out = []
        first = start.replace(day=1)
        while first <= end:
            nxt = (first + timedelta(days=32)).replace(day=1)
            out.append((first, nxt - timedelta(days=1)))
            first = nxt
        return out
    return [(start + timedelta(days=i), start + timedelta(days=i)) for i in range((end - start).days + 1)]


def _sum_days(book: Book, first: date, last: date) -> dict[str, np.ndarray] | None:
    lo = max(first.toordinal(), book.market.origin_ordinal)
    hi = min(last.toordinal(), book.market.today_ordinal - 1)
    if hi < lo:
        return None
    total: dict[str, np.ndarray] | None = None
    for d in range(lo, hi + 1):
        day = retail_day(book, d)
        total = dict(day) if total is None else {k: total[k] + v for k, v in day.items()}
    total["buy_box"] = total["buy_box"] / (hi - lo + 1)
    return total


def sales_and_traffic(book: Book, start: date, end: date, options: dict, spec: dict) -> dict:
    cur = book.profile.currency
    c = book.cat
    granularity = options.get("dateGranularity", "DAY")
    asin_level = options.get("asinGranularity", "PARENT")
    buckets = _buckets(start, end, granularity)
    by_date = []
    for first, last in buckets:
        s = _sum_days(book, first, last)
        if s is None:
            continue
        units, items, sales = int(s["units"].sum()), int(s["items"].sum()), float(s["sales"].sum())
        sessions, views = int(s["sessions"].sum()), int(s["page_views"].sum())
        refunds = int(s["refunds"].sum())
        by_date.append(
            {
                "date": first.isoformat(),
                "salesByDate": {
                    "orderedProductSales": _amount(sales, cur),
                    "unitsOrdered": units,
                    "totalOrderItems": items,
                    "averageSalesPerOrderItem": _amount(sales / items if items else 0.0, cur),
                    "averageUnitsPerOrderItem": round(units / items, 2) if items else 0.0,
                    "averageSellingPrice": _amount(sales / units if units else 0.0, cur),
                    "unitsRefunded": refunds,
                    "refundRate": round(100.0 * refunds / units, 2) if units else 0.0,
                    "claimsGranted": 0,
                    "claimsAmount": _amount(0.0, cur),
                    "shippedProductSales": _amount(sales, cur),
                    "unitsShipped": units,
                    "ordersShipped": items,
                },
                "trafficByDate": {
                    "browserPageViews": views - int(s["mobile_page_views"].sum()),
                    "mobileAppPageViews": int(s["mobile_page_views"].sum()),
                    "pageViews": views,
                    "browserSessions": sessions - int(s["mobile_sessions"].sum()),
                    "mobileAppSessions": int(s["mobile_sessions"].sum()),
                    "sessions": sessions,
                    "buyBoxPercentage": round(float(np.mean(s["buy_box"])), 2),
                    "orderItemSessionPercentage": round(min(100.0, 100.0 * items / sessions), 2) if sessions else 0.0,
                    "unitSessionPercentage": round(100.0 * units / sessions, 2) if sessions else 0.0,
                    "averageOfferCount": 1,
                    "averageParentItems": len(set(c.parent_asin)),
                    "feedbackReceived": items // 20,
                    "negativeFeedbackReceived": items // 400,
                    "receivedNegativeFeedbackRate": round(100.0 * (items // 400) / (items // 20), 2)
                    if items // 20
                    else 0.0,
                },
            }
        )
    total = _sum_days(book, buckets[0][0], buckets[-1][1]) if buckets else None
    return {
        "reportSpecification": spec,
        "salesAndTrafficByDate": by_date,
        "salesAndTrafficByAsin": [] if total is None else _by_asin(book, total, asin_level),
    }


def _by_asin(book: Book, s: dict[str, np.ndarray], level: str) -> list[dict]:
    c = book.cat
    cur = book.profile.currency
    if level == "PARENT":
        groups: dict[tuple, list[int]] = {}
        for p, parent in enumerate(c.parent_asin):
            groups.setdefault((parent,), []).append(p)
    else:
        groups = {(c.parent_asin[p], c.asin[p], c.sku[p]): [p] for p in range(len(c.asin))}
    all_sessions = max(1.0, float(s["sessions"].sum()))
    all_views = max(1.0, float(s["page_views"].sum()))
    out = []
    for key, members in groups.items():
        idx = np.array(members)

        def tot(name: str, idx=idx) -> int:
            return int(s[name][idx].sum())

        sessions, mobile, views, mviews = (
            tot("sessions"),
            tot("mobile_sessions"),
            tot("page_views"),
            tot("mobile_page_views"),
        )
        units = tot("units")
        row = {"parentAsin": key[0]}
        if level in ("CHILD", "SKU"):
            row["childAsin"] = key[1]
        if level == "SKU":
            row["sku"] = key[2]
        row["salesByAsin"] = {
            "unitsOrdered": units,
            "orderedProductSales": _amount(float(s["sales"][idx].sum()), cur),
            "totalOrderItems": tot("items"),
        }
        row["trafficByAsin"] = {
            "browserSessions": sessions - mobile,
            "mobileAppSessions": mobile,
            "sessions": sessions,
            "browserSessionPercentage": round(100.0 * (sessions - mobile) / all_sessions, 2),
            "mobileAppSessionPercentage": round(100.0 * mobile / all_sessions, 2),
            "sessionPercentage": round(100.0 * sessions / all_sessions, 2),
            "browserPageViews": views - mviews,
            "mobileAppPageViews": mviews,
            "pageViews": views,
            "browserPageViewsPercentage": round(100.0 * (views - mviews) / all_views, 2),
            "mobileAppPageViewsPercentage": round(100.0 * mviews / all_views, 2),
            "pageViewsPercentage": round(100.0 * views / all_views, 2),
            "buyBoxPercentage": round(float(s["buy_box"][idx].mean()), 2),
            "unitSessionPercentage": round(100.0 * units / sessions, 2) if sessions else 0.0,
        }
        out.append(row)
    return out


def _ts(d: int, hour: int = 0, end: bool = False) -> str:
    day = date.fromordinal(d).isoformat()
    return f"{day}T23:59:59Z" if end else f"{day}T{hour:02d}:00:00Z"


def _promo_units(book: Book, promo: Promotion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per promoted product: (units bought at the promotional price, their revenue, glance views meanwhile),
    as known by the market's today."""
    idx = np.asarray(promo.products)
    units, views = np.zeros(len(idx)), np.zeros(len(idx))
    for d in range(max(promo.start, book.market.origin_ordinal), min(promo.end, book.market.today_ordinal - 1) + 1):
        if not book.retail.on(promo, d):
            continue  # a coupon whose budget ran out
        day = retail_day(book, d)
        units += day["units"][idx] * promo.share
        views += day["page_views"][idx] * promo.share
    units = np.round(units)
    return units, np.round(units * book.cat.price[idx] * (1.0 - np.asarray(promo.cut)), 2), np.floor(views)


def _started(book: Book, promo: Promotion, start: int, end: int) -> bool:
    return start <= promo.start <= end and promo.start < book.market.today_ordinal


def promotions(book: Book, start: int, end: int, spec: dict, merchant_id: str) -> list[dict]:
    c = book.cat
    cur = book.profile.currency
    out = []
    for promo in book.retail.promotions:
        if promo.kind == "COUPON" or not _started(book, promo, start, end):
            continue
        units, revenue, views = _promo_units(book, promo)
        lightning = promo.kind == "LIGHTNING_DEAL"
        first = promo.products[0]
        what = c.product_name[first] if len(promo.products) == 1 else f"{len(promo.products)} products"
        out.append(
            {
                "promotionId": promo.ident,
                "promotionName": f"{int(round(max(promo.cut) * 100))}% off {what}",
                "merchantId": merchant_id,
                "unitsSold": int(units.sum()),
                "revenue": round(float(revenue.sum()), 2),
                "revenueCurrencyCode": cur,
                "startDateTime": _ts(promo.start, 10 if lightning else 0),
                "endDateTime": _ts(promo.end, 16) if lightning else _ts(promo.end, end=True),
                "type": promo.kind,
                "status": "APPROVED",
                "creationChannel": "SELF-SERVICE",
                "marketplaceId": book.profile.marketplace_id,
                "glanceViews": int(views.sum()),
                "createdDateTime": _ts(promo.created or promo.start - 21, 9),
                "lastUpdatedDateTime": _ts(promo.created or promo.start - 2, 9),
                "includedProducts": [
                    {
                        "asin": c.asin[p],
                        "productName": c.product_name[p],
                        "productGlanceViews": int(views[k]),
                        "productUnitsSold": int(units[k]),
                        "productRevenue": float(revenue[k]),
                        "productRevenueCurrencyCode": cur,
                    }
                    for k, p in enumerate(promo.products)
                ],
            }
        )
    return out


def coupons(book: Book, start: int, end: int, merchant_id: str) -> list[dict]:
    c = book.cat
    fx = book.profile.fx
    digits = 0 if fx >= 100 else 2
    out = []
    for promo in book.retail.promotions:
        if promo.kind != "COUPON" or not _started(book, promo, start, end):
            continue
        idx = np.asarray(promo.products)
        clipped, _, _ = _promo_units(book, promo)  # units bought with the coupon clipped: redemptions
        per_unit = np.round(c.price[idx] * np.asarray(promo.cut), digits)
        redemptions = int(clipped.sum())
        discount = round(float((clipped * per_unit).sum()), 2)
        budget = promo.budget if promo.entered and promo.budget else max(promo.budget or 0.0, round(discount * 1.25, 2))
        spent = min(discount, budget)  # the budget pays discounts; Amazon's coupon fees are charged apart
        clips = int(redemptions * (1.5 + (derive_int(0, promo.ident) % 150) / 100))
        first = promo.products[0]
        name = c.product_name[first] if len(idx) == 1 else f"{len(idx)} products"
        amount = promo.amount_off
        message = f"Save {amount:g}" if amount is not None else f"Save {int(round(promo.cut[0] * 100))}%"
        out.append(
            {
                "couponId": promo.ident,
                "merchantId": merchant_id,
                "marketplaceId": book.profile.marketplace_id,
                "currencyCode": book.profile.currency,
                "name": f"Save on {name}",
                "websiteMessage": message,
                "startDateTime": _ts(promo.start),
                "endDateTime": _ts(promo.end, end=True),
                "customerSegment": "All (Default)",
                "discountType": "AMOUNT_OFF_LIST_PRICE" if amount is not None else "PERCENT_OFF_LIST_PRICE",
                "discountAmount": amount if amount is not None else round(promo.cut[0] * 100, 2),
                "clips": clips,
                "redemptions": redemptions,
                "budget": budget,
                "totalDiscount": discount,
                "budgetSpent": spent,
                "budgetRemaining": round(budget - spent, 2),
                "budgetPercentageUsed": round(100.0 * spent / budget, 2) if budget else 0.0,
                "sales": round(float((clipped * (c.price[idx] - per_unit)).sum()), 2),
                "asins": [{"asin": c.asin[p]} for p in promo.products],
            }
        )
    return out
