"""Seeding for the dashboard tests: structure and fact rows inserted directly, then the rollup refreshed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from marketing.clock import set_today

TODAY = dt.date(2026, 3, 15)


@pytest.fixture(autouse=True)
def pinned_today():
    set_today(TODAY)
    yield TODAY
    set_today(None)


class Seeder:
    def __init__(self, db):
        self.db = db

    def connect(self, seller, *profiles, api="ads", managed=True, **connection):
        """An Ads connection with managed profiles, each given as (profile_id, country, currency, time zone)."""
        from marketing.models import AdsProfile, Connection

        conn = Connection(seller_id=seller.id, api=api, refresh_token_ciphertext=b"x", token_last4="abcd",
                          **connection)
        self.db.session.add(conn)
        self.db.session.flush()
        for profile_id, country, currency, zone in profiles:
            self.db.session.add(AdsProfile(
                connection_id=conn.id, profile_id=profile_id, country_code=country, currency_code=currency,
                timezone=zone, marketplace_id=f"M-{country}", account_type="seller", managed=managed))
        self.db.session.commit()
        return conn

    def campaign(self, seller, profile_id, campaign_id, name, *, state="enabled", days=None, currency="USD"):
        """A campaign and its daily rows; `days` maps date → (impressions, clicks, cost, orders, sales)."""
        from marketing.models import SpCampaign, SpCampaignDaily

        self.db.session.add(SpCampaign(profile_id=profile_id, campaign_id=campaign_id, seller_id=seller.id,
                                       state=state, name=name, targeting_type="MANUAL", budget=Decimal("50")))
        for date, (impressions, clicks, cost, orders, sales) in (days or {}).items():
            self.db.session.add(SpCampaignDaily(
                profile_id=profile_id, date=date, campaign_id=campaign_id, campaign_name=name,
                campaign_status=state.upper(), currency_code=currency, impressions=impressions, clicks=clicks,
                cost=Decimal(str(cost)), orders=orders, units=orders, sales=Decimal(str(sales))))
        self.db.session.commit()

    def ad_group(self, seller, profile_id, campaign_id, ad_group_id, name, default_bid):
        from marketing.models import SpAdGroup

        self.db.session.add(SpAdGroup(profile_id=profile_id, ad_group_id=ad_group_id, campaign_id=campaign_id,
                                      seller_id=seller.id, state="enabled", name=name,
                                      default_bid=Decimal(str(default_bid))))
        self.db.session.commit()

    def target(self, seller, profile_id, campaign_id, ad_group_id, target_id, text, *, bid=None, days=None):
        """A keyword and its daily rows; `days` maps date → (clicks, cost, orders, sales, keyword_bid)."""
        from marketing.models import SpTarget, SpTargetDaily

        self.db.session.add(SpTarget(profile_id=profile_id, target_id=target_id, seller_id=seller.id,
                                     state="enabled", kind="keyword", campaign_id=campaign_id,
                                     ad_group_id=ad_group_id, text=text, match_type="EXACT",
                                     bid=None if bid is None else Decimal(str(bid))))
        for date, (clicks, cost, orders, sales, keyword_bid) in (days or {}).items():
            self.db.session.add(SpTargetDaily(
                profile_id=profile_id, date=date, target_id=target_id, campaign_id=campaign_id,
                ad_group_id=ad_group_id, impressions=clicks * 20, clicks=clicks, cost=Decimal(str(cost)),
                orders=orders, units=orders, sales=Decimal(str(sales)), keyword_bid=Decimal(str(keyword_bid)),
                match_type="EXACT"))
        self.db.session.commit()

    def search_term(self, profile_id, campaign_id, target_id, term, date, clicks, cost, orders, sales):
        from marketing.models import SpSearchTermDaily

        self.db.session.add(SpSearchTermDaily(
            profile_id=profile_id, date=date, target_id=target_id, search_term=term, campaign_id=campaign_id,
            ad_group_id=1, impressions=clicks * 10, clicks=clicks, cost=Decimal(str(cost)), orders=orders,
            units=orders, sales=Decimal(str(sales))))
        self.db.session.commit()

    def sales_traffic(self, seller, country, date, ordered_sales, currency="USD"):
        from marketing.models import SalesTrafficDaily

        self.db.session.add(SalesTrafficDaily(seller_id=seller.id, marketplace_id=f"M-{country}", date=date,
                                              currency_code=currency, ordered_sales=Decimal(str(ordered_sales))))
        self.db.session.commit()

    def suggestion(self, seller, profile_id, campaign_id, target_id, current, proposed, label="keyword"):
        """A pending bid suggestion (as the bid engine would leave it) for one keyword."""
        from marketing.models import Suggestion, SuggestionRun

        run = SuggestionRun(seller_id=seller.id, kind="bid", status="succeeded")
        self.db.session.add(run)
        self.db.session.flush()
        suggestion = Suggestion(
            seller_id=seller.id, run_id=run.id, kind="bid", profile_id=profile_id, entity_kind="keyword",
            entity_id=target_id, entity_ref=str(target_id), campaign_id=campaign_id, ad_group_id=501, label=label,
            current_value=Decimal(str(current)), proposed_value=Decimal(str(proposed)),
            direction="up" if Decimal(str(proposed)) > Decimal(str(current)) else "down", status="pending",
            reason="below_target_acos", explanation="ACoS is well below target; more traffic should pay.")
        self.db.session.add(suggestion)
        self.db.session.commit()
        return suggestion

    def rollup(self, seller):
        from marketing.dashboard.rollups import refresh_rollups

        return refresh_rollups(seller.id, dt.date(2025, 1, 1), TODAY)


@pytest.fixture
def seed(db):
    return Seeder(db)


def day(n: int) -> dt.date:
    """`n` days before the pinned today."""
    return TODAY - dt.timedelta(days=n)


@pytest.fixture
def shop(make_seller, seed):
    """A seller with a US profile: two campaigns (one named like an attack), keywords, search terms, S&T.
    Its time zone is UTC so that its "yesterday" is the pinned one whatever the hour the tests run at."""
    seller = make_seller("Acme Outdoor")
    seed.connect(seller, (111, "US", "USD", "UTC"))
    seed.campaign(seller, 111, 1001, "Tents - Exact", days={day(n): (1000, 50, "25.00", 4, "100.00")
                                                              for n in range(1, 61)})
    seed.campaign(seller, 111, 1002, "<script>alert(1)</script>", state="paused",
                  days={day(n): (500, 10, "10.00", 1, "20.00") for n in range(1, 31)})
    seed.ad_group(seller, 111, 1001, 501, "Tents", "0.75")
    seed.target(seller, 111, 1001, 501, 9001, "tent 4 person", bid="1.10",
                days={day(n): (10, "8.00", 1, "40.00", "1.10") for n in range(1, 31)})
    seed.target(seller, 111, 1001, 501, 9002, "camping tent", bid=None,
                days={day(n): (5, "2.00", 0, "0", "0.75") for n in range(1, 31)})
    seed.search_term(111, 1001, 9001, "big family tent", day(2), 7, "5.00", 1, "50.00")
    seed.search_term(111, 1001, 9001, "=HYPERLINK(\"x\")", day(3), 1, "1.00", 0, "0")
    seed.rollup(seller)
    return seller
