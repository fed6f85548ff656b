"""Report rows as Amazon's files hold them (ids integers, money Decimal from the JSON text), for the ingest tests."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

START, END = date(2025, 6, 1), date(2025, 6, 7)
PROFILE = 4_000_000_000_001  # above 2**31: ids are 64-bit


def days(start: date = START, end: date = END) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def cents(rng: random.Random, high: int = 5000) -> Decimal:
    return Decimal(rng.randint(0, high * 100)) / 100


def target_row(day: date, target: int, rng: random.Random | None = None, **override) -> dict:
    rng = rng or random.Random(target * 1000 + day.toordinal())
    clicks = rng.randint(0, 40)
    orders = rng.randint(0, clicks)
    row = {
        "date": day.isoformat(), "keywordId": target, "campaignId": 7_000_000_000_000 + target // 10,
        "adGroupId": 8_000_000_000_000 + target // 5, "keywordBid": Decimal("0.75"), "matchType": "EXACT",
        "impressions": clicks * 30 + rng.randint(1, 500), "clicks": clicks, "cost": cents(rng, 60),
        "purchases1d": orders, "purchases7d": orders, "purchases14d": orders + 1,
        "unitsSoldClicks7d": orders * 2, "unitsSoldClicks14d": orders * 2 + 1,
        "sales7d": cents(rng, 300), "sales14d": cents(rng, 400), "campaignBudgetCurrencyCode": "USD",
        "keyword": "trail shoes", "portfolioId": None,
    }  # fmt: skip
    row.update(override)
    return row


def target_rows(n_targets: int = 30, start: date = START, end: date = END, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [target_row(d, 1_000_000_000_000 + t, rng) for d in days(start, end) for t in range(n_targets)]


def fact_rows(session, model, **where) -> list[tuple]:
    """Every row of a fact table (optionally filtered), as sorted tuples of all columns."""
    table = model.__table__
    query = select(table).where(*(table.c[k] == v for k, v in where.items()))
    return sorted(tuple(r) for r in session.execute(query))
