"""The dashboard's remembered sums: kept until the seller's data changes, and only that seller's read again."""

import re
from decimal import Decimal

import pytest

from marketing.dashboard import cache, periods, queries
from marketing.models import Seller, SpCampaignDaily, data_changed
from marketing.sync.ingest import ingest_report
from tests.dashboard.conftest import TODAY, day

pytestmark = pytest.mark.sqlite

LAST_7 = periods.preset("7d", TODAY)


def test_the_store_forgets_the_least_recently_used():
    store = cache.Store(2)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1  # "a" is now the most recent
    store.put("c", 3)
    assert (store.get("a"), store.get("b", "gone"), store.get("c")) == (1, "gone", 3)


def _cost(seller) -> Decimal:
    return queries.totals([seller.id], LAST_7)[(seller.id, "USD")].cost


def test_totals_are_remembered_until_the_sellers_data_version_moves(shop, seed, db):
    assert _cost(shop) == Decimal("245.00")  # 7 days of 25.00 + 10.00
    # A row written behind the ingest's back (no version bump, no rollup) is not seen...
    seed.campaign(shop, 111, 1003, "Later", days={day(1): (10, 1, "5.00", 0, "0")})
    seed.sales_traffic(shop, "US", day(1), "300.00")
    assert _cost(shop) == Decimal("245.00")
    # ...until the rollup is refreshed, which bumps the version in its transaction.
    version = db.session.get(Seller, shop.id).data_version
    seed.rollup(shop)
    db.session.expire_all()
    assert db.session.get(Seller, shop.id).data_version == version + 1
    totals = queries.totals([shop.id], LAST_7)[(shop.id, "USD")]
    assert (totals.cost, totals.total_sales) == (Decimal("250.00"), Decimal("300.00"))


def test_only_the_seller_whose_data_changed_is_read_again(shop, make_seller, seed, db, monkeypatch):
    other = make_seller("Other Shop")
    seed.connect(other, (222, "US", "USD", "UTC"))
    seed.campaign(other, 222, 2001, "Other", days={day(n): (100, 10, "3.00", 1, "9.00") for n in range(1, 8)})
    seed.rollup(other)
    read = []
    rollup = queries._rollup
    monkeypatch.setattr(queries, "_rollup", lambda ids, *a, **kw: read.append(sorted(ids)) or rollup(ids, *a, **kw))
    both = [shop.id, other.id]
    first = queries.totals(both, LAST_7)
    assert queries.totals(both, LAST_7) == first
    db.session.execute(data_changed(seller_id=other.id))
    db.session.commit()
    assert queries.totals(both, LAST_7) == first
    assert read == [sorted(both), [other.id]]


def test_a_new_search_term_report_shows_at_once(shop, db):
    listing = queries.Listing()
    period = periods.preset("30d", TODAY)
    before = queries.search_terms(111, period, listing)
    assert [r.info["search_term"] for r in before.items] == ["big family tent", '=HYPERLINK("x")']
    assert queries.search_terms(111, period, listing) is before  # remembered
    row = {"date": str(day(4)), "keywordId": 9001, "searchTerm": "tent with porch", "campaignId": 1001,
           "adGroupId": 501, "impressions": 90, "clicks": 9, "cost": Decimal("20.00"), "purchases7d": 2,
           "unitsSoldClicks7d": 2, "sales7d": Decimal("80.00")}
    ingest_report(db.session, "spSearchTerm", [row], profile_id=111, start=day(4), end=day(4), currency="USD",
                  attribution_days=7)
    db.session.commit()
    after = queries.search_terms(111, period, listing)
    assert [r.info["search_term"] for r in after.items] == ["tent with porch", "big family tent", '=HYPERLINK("x")']


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_seller_page_shows_a_sync_s_figures_at_once(shop, seed, db, client, login, make_user):
    login(make_user("viewer@example.com", "admin").email)
    assert "Spend 245.00 USD" in _text(client.get(f"/sellers/{shop.id}?range=7d"))
    db.session.query(SpCampaignDaily).filter_by(profile_id=111, date=day(3), campaign_id=1001).update(
        {"cost": Decimal("125.00")})
    db.session.commit()
    assert "Spend 245.00 USD" in _text(client.get(f"/sellers/{shop.id}?range=7d"))  # rollup not refreshed
    seed.rollup(shop)
    assert "Spend 345.00 USD" in _text(client.get(f"/sellers/{shop.id}?range=7d"))
