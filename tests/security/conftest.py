"""A two-seller world shared by a whole module (the route matrix and the fuzz send hundreds of requests), and
clients logged in as each role.

Module-scoped: tests in a module that uses `world` must not use the function-scoped `app`/`client` fixtures,
whose cleanup would empty the world under them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from marketing.clock import set_today
from tests.conftest import PASSWORD, _clean, _make_app, csrf_token
from tests.dashboard.conftest import Seeder

TODAY = dt.date(2026, 3, 15)
ROLES = ("viewer", "marketer", "admin")


@dataclass
class Side:
    """One seller's ids: the marketer and the viewer are assigned to the `own` side only."""

    seller: int
    profile: int
    campaign: int
    target: int
    suggestion: int
    plan: int  # a promotion plan


@dataclass
class World:
    app: object
    own: Side
    foreign: Side
    other_user: int  # a user the admin pages can act on
    clients: dict = field(default_factory=dict)

    def client(self, role: str | None, fresh: bool = False):
        """A test client logged in as `role` (None: anonymous); `fresh` logs in again (after a logout)."""
        if role is None:
            return self.app.test_client()
        if fresh or role not in self.clients:
            self.clients[role] = login(self.app, f"{role}@example.com")
        return self.clients[role]


def login(app, email: str):
    client = app.test_client()
    data = {"email": email, "password": PASSWORD}
    if app.config.get("WTF_CSRF_ENABLED"):
        data["csrf_token"] = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.status_code
    return client


def _side(seed: Seeder, seller, base: int) -> Side:
    day = TODAY - dt.timedelta(days=2)
    profile, campaign, ad_group, target = base, base + 1000, base + 2000, base + 3000
    seed.connect(seller, (profile, "US", "USD", "UTC"))
    seed.campaign(seller, profile, campaign, f"Campaign {base}", days={day: (100, 10, "5.00", 1, "20.00")})
    seed.ad_group(seller, profile, campaign, ad_group, "Group", "0.75")
    seed.target(seller, profile, campaign, ad_group, target, "tent", bid="1.10",
                days={day: (10, "5.00", 1, "20.00", "1.10")})
    seed.search_term(profile, campaign, target, "big tent", day, 7, "5.00", 1, "50.00")
    suggestion = seed.suggestion(seller, profile, campaign, target, "1.10", "1.30")
    return Side(seller.id, profile, campaign, target, suggestion.id, _plan(seller).id)


def _plan(seller):
    from decimal import Decimal

    from marketing.extensions import db
    from marketing.models import PromotionPlan

    plan = PromotionPlan(seller_id=seller.id, marketplace_id="ATVPDKIKX0DER", type="COUPON", asins=["B0WORLD"],
                         discount_type="PERCENT_OFF_LIST_PRICE", discount_amount=Decimal(20),
                         start_date=TODAY + dt.timedelta(days=2), end_date=TODAY + dt.timedelta(days=8),
                         budget=Decimal(100), currency_code="USD")
    db.session.add(plan)
    db.session.commit()
    return plan


def build_world(app) -> World:
    from marketing import accounts, sellers
    from marketing.extensions import db

    with app.app_context():
        seed = Seeder(db)
        own, foreign = sellers.create_seller("Own Co", "NA"), sellers.create_seller("Foreign Co", "NA")
        db.session.commit()
        for role in ROLES:
            user = accounts.create_user(f"{role}@example.com", role, password=PASSWORD)
            user.sellers = [own] if role != "admin" else []
        other = accounts.create_user("other@example.com", "viewer", password=PASSWORD)
        db.session.commit()
        world = World(app, _side(seed, own, 100), _side(seed, foreign, 200), other.id)
        db.session.remove()
    return world


def _world(database_url, redis_url, instance_path, **config):
    set_today(TODAY)
    app = _make_app(database_url, redis_url, instance_path, **config)
    yield build_world(app)
    with app.app_context():
        _clean(app)
    set_today(None)


@pytest.fixture(scope="module")
def world(database_url, redis_url, instance_path, migrated):
    """The world on an app with CSRF off (as the rest of the suite): for the matrix and the fuzz."""
    yield from _world(database_url, redis_url, instance_path)


@pytest.fixture(scope="module")
def csrf_world(database_url, redis_url, instance_path, migrated):
    """The world on an app with CSRF protection on, as in production."""
    yield from _world(database_url, redis_url, instance_path, WTF_CSRF_ENABLED=True)
