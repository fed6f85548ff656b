"""Fixtures for promotions: the engine replaced by `fake_engine` (its own tests are the engine's), a seller with
by-ASIN history, unit costs and reported promotions inserted as rows (the ingest is tested on its own)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from marketing.clock import set_today
from tests.promotions import fake_engine

TODAY = dt.date(2026, 3, 15)
US = "ATVPDKIKX0DER"


@pytest.fixture(autouse=True)
def engine(monkeypatch):
    return fake_engine.install(monkeypatch)


@pytest.fixture(autouse=True)
def pinned_today():
    set_today(TODAY)
    yield TODAY
    set_today(None)


class Rows:
    """Inserts the tables' rows for one seller."""

    def __init__(self, db, seller):
        self.db, self.seller = db, seller

    def history(self, asin, *, days=90, units=10, price="20.00", until=TODAY - dt.timedelta(days=1),
                during=None, marketplace_id=US, currency="USD"):
        """Daily Sales & Traffic for `days` days to `until`; `during` maps a day to (units, price) instead."""
        from marketing.models import SalesTrafficAsinDaily

        for n in range(days):
            day = until - dt.timedelta(days=n)
            u, p = (during or {}).get(day, (units, price))
            self.db.session.add(SalesTrafficAsinDaily(
                seller_id=self.seller.id, marketplace_id=marketplace_id, date=day, asin=asin, currency_code=currency,
                ordered_sales=Decimal(p) * u, units_ordered=u, sessions=u * 10, page_views=u * 12))
        self.db.session.commit()

    def product(self, asin, unit_cost="8.00", price="20.00", currency="USD"):
        from marketing.models import Product

        self.db.session.add(Product(seller_id=self.seller.id, asin=asin, currency_code=currency,
                                    unit_cost=None if unit_cost is None else Decimal(unit_cost),
                                    price=Decimal(price), referral_fee_pct=Decimal(15), fba_fee=Decimal("3.00")))
        self.db.session.commit()

    def promotion(self, amazon_id, asins, start, end, *, type="COUPON", discount="20", budget="500",
                  marketplace_id=US):
        from marketing.models import Promotion, PromotionAsin

        promotion = Promotion(
            seller_id=self.seller.id, marketplace_id=marketplace_id, type=type, amazon_id=amazon_id, name=amazon_id,
            status="RUNNING", starts_at=dt.datetime.combine(start, dt.time(), dt.UTC),
            ends_at=dt.datetime.combine(end, dt.time(23, 59), dt.UTC), currency_code="USD",
            discount_type="PERCENT_OFF_LIST_PRICE" if type == "COUPON" else None,
            discount_amount=Decimal(discount) if type == "COUPON" else None,
            budget=Decimal(budget) if type == "COUPON" else None, redemptions=10, revenue=Decimal("160"),
            asins=[PromotionAsin(asin=a) for a in asins])
        self.db.session.add(promotion)
        self.db.session.commit()
        return promotion

    def fee(self, type="COUPON", since=dt.date(2025, 6, 2), fixed="5", variable_pct="2.5"):
        """A fee row (the tests' cleanup empties the migration's seeded fees)."""
        from marketing.models import PromotionFee

        self.db.session.add(PromotionFee(marketplace_id=US, type=type, effective_from=since, currency_code="USD",
                                         fixed=Decimal(fixed), variable_pct=Decimal(variable_pct)))
        self.db.session.commit()

    def stock(self, asin, units, day=TODAY):
        from marketing.models import InventoryDaily

        self.db.session.add(InventoryDaily(seller_id=self.seller.id, marketplace_id=US, date=day, asin=asin,
                                           fulfillable=units))
        self.db.session.commit()


@pytest.fixture
def seller(make_seller):
    return make_seller("Promo Co", "NA")


@pytest.fixture
def rows(db, seller):
    return Rows(db, seller)


@pytest.fixture
def suggested(rows, seller):
    """Two ASINs with 90 days of history; B0COST has a unit cost, B0NOCOST has none; one suggestion run."""
    from marketing.promotions import service

    rows.history("B0COST")
    rows.product("B0COST")
    rows.history("B0NOCOST")
    rows.product("B0NOCOST", unit_cost=None)
    return service.run_suggestions(seller.id)
