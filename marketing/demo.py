"""What `marketing demo` puts in the database: demo users, sandbox sellers, what their marketer and admin would type
(unit costs and per-unit fees, from the sandbox's catalog; promotion fees where the guide gives none), and the FBA
inventory history a product connected for months would have stored."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from marketing import accounts, jobs
from marketing import sellers as seller_service
from marketing.clock import now, today
from marketing.connections import oauth, service
from marketing.digest import preferences, weekly
from marketing.extensions import db
from marketing.mail import transport
from marketing.models import InventoryDaily, Seller, SyncRun
from marketing.models.sync import ACTIVE_RUN
from marketing.products import service as products
from marketing.promotions import fees as promotion_fees
from marketing.promotions import history as promotion_history
from marketing.promotions import service as promotions
from marketing.sandbox.testing import Admin
from marketing.sync import runs
from marketing.sync.inventory import ingest_inventory


@contextmanager
def _sandbox_admin(sandbox: dict) -> Iterator[Admin]:
    """The sandbox's admin API client for one step of the demo's set-up, closed after it."""
    admin = Admin(sandbox["AMAZON_BASE_URL"], sandbox["AMAZON_SANDBOX_ADMIN_KEY"])
    try:
        yield admin
    finally:
        admin.close()


DEMO_USERS = (
    ("admin@example.com", "admin", "Demo Admin"),
    ("marketer@example.com", "marketer", "Demo Marketer"),
    ("viewer@example.com", "viewer", "Demo Viewer"),
)


def demo_password(instance_path: str) -> str:
    """One password for the demo users, made once and kept in the instance folder (mode 0600)."""
    path = Path(instance_path) / "demo_password"
    if not path.exists():
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("demo-" + secrets.token_urlsafe(9))
    return path.read_text().strip()


def seed(app: Flask) -> list[tuple[str, str]]:
    """Create the demo users if missing; return (email, password) pairs to print."""
    password = demo_password(app.instance_path)
    with app.app_context():
        for email, role, name in DEMO_USERS:
            if accounts.find_user(email) is None:
                accounts.create_user(email, role, name=name, password=password)
        db.session.commit()
    return [(email, password) for email, _, _ in DEMO_USERS]


def register_sandbox_callbacks(app: Flask, sandbox: dict) -> None:
    """List the product's own callbacks (built on PUBLIC_URL) as the sandbox apps' Allowed Return URLs, as a
    developer does in each Amazon security profile: the consent pages refuse any other redirect_uri."""
    with _sandbox_admin(sandbox) as admin, app.app_context():
        for api in ("ads", "sp"):
            admin.set_redirect_uris(api, [oauth.redirect_uri(api)])


def limit_like_amazon(sandbox: dict) -> None:
    """Switch on the sandbox's rate limits (Amazon's usage plans, on its clock): the demo paces itself as it
    would against Amazon."""
    with _sandbox_admin(sandbox) as admin:
        admin.rate_limits(enabled=True)


def seed_sandbox_sellers(app: Flask, sandbox: dict, connected: int = 2) -> list[str]:
    """One seller per sandbox account; the first `connected` get Ads + SP-API connections (proven by a real
    token exchange with the sandbox), the rest stay unconnected so a newcomer can try the consent pages.
    Idempotent: existing sellers and connections are left as they are. Returns the seller names."""
    names = []
    with app.app_context():
        marketer = accounts.find_user("marketer@example.com")
        viewer = accounts.find_user("viewer@example.com")
        for index, account in enumerate(sandbox.get("sellers", [])):
            seller = seller_service.find_seller(account["name"]) or seller_service.create_seller(
                account["name"], account["region"])
            names.append(seller.name)
            for user in (marketer, viewer if index == 0 else None):
                if user is not None and seller not in user.sellers:
                    user.sellers.append(seller)
            db.session.commit()
            if index >= connected:
                continue
            new_profiles = False
            if seller.connection("ads") is None:
                token = account["ads_refresh_token"]
                service.prove_refresh_token(seller, "ads", token)
                connection = service.store_token(seller, "ads", token, authorized_at=now(), actor=None,
                                                 method="demo")
                db.session.commit()
                service.refresh_profiles(connection, manage_new=True)
                db.session.commit()
                new_profiles = True
            if seller.connection("sp") is None:
                token = account["sp_refresh_token"]
                service.prove_refresh_token(seller, "sp", token)
                # Authorized a while ago, so the demo shows a countdown to the 365-day expiry.
                service.store_token(seller, "sp", token, authorized_at=now() - dt.timedelta(days=340 - 60 * index),
                                    actor=None, method="demo")
                seller.selling_partner_id = account.get("selling_partner_id")
                db.session.commit()
            if new_profiles:
                runs.start_backfill(seller.id)
    return names


DEMO_COSTS_TRIES = 80  # × 15 s: the first sync lists the sellers' ASINs well within
# days of FBA inventory the demo records before today: a whole restock cycle or two, from which the engine learns each
# ASIN's restocks (without one whole shipment in it, an ASIN must hold its promotion and a month more on its shelf)
DEMO_INVENTORY_DAYS = 120
SANDBOX_FEES_FROM = dt.date(2025, 6, 2)  # the sandbox charges the guide's fee schedule of that date everywhere


def _connected_markets(sandbox: dict, connected: int) -> Iterator[tuple[int, dict, str]]:
    """(index, account, marketplace id) of each marketplace of the first `connected` sandbox sellers."""
    for index, account in enumerate(sandbox.get("sellers", [])[:connected]):
        for market in account.get("marketplace_ids", []):
            yield index, account, market


def seed_fees(app: Flask, sandbox: dict, connected: int = 2) -> None:
    """Enter the promotion fees of the connected demo sellers' marketplaces that have none in force (the guide gives
    only the US's), as the demo admin would on the fee page: what the sandbox charges there."""
    with _sandbox_admin(sandbox) as admin, app.app_context():
        actor = accounts.find_user("admin@example.com")
        for index, _, market in _connected_markets(sandbox, connected):
            if promotion_history.fee_rows(market, today()):
                continue
            for kind, fee in admin.catalog(index, market)["fees"].items():
                cap = fee["variable_cap"]
                promotion_fees.save({
                    "marketplace_id": market, "type": kind, "effective_from": SANDBOX_FEES_FROM,
                    "fixed": _money(fee["fixed"]), "per_day": _money(fee["per_day"]),
                    "per_redemption": _money(fee["per_redemption"]),
                    "variable_pct": Decimal(str(round(fee["variable_pct"] * 100, 4))),
                    "variable_cap": None if cap is None else _money(cap), "note": "the sandbox's fees (demo)",
                }, actor=actor)
        db.session.commit()


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def seed_inventory(app: Flask, sandbox: dict, connected: int = 2, days: int = DEMO_INVENTORY_DAYS) -> None:
    """Store the connected demo sellers' FBA inventory summaries of the `days` days before today, as the nightly
    sync would have had the product been connected that long (Amazon keeps no such history to ask for): the engine
    learns each ASIN's restocks from them. Days already stored are left as they are."""
    with _sandbox_admin(sandbox) as admin, app.app_context():
        for index, account, market in _connected_markets(sandbox, connected):
            seller = seller_service.find_seller(account["name"])
            i = InventoryDaily
            stored = set(db.session.scalars(select(i.date).where(
                i.seller_id == seller.id, i.marketplace_id == market).distinct()))
            for day in admin.inventory_history(index, market, days):
                date = dt.date.fromisoformat(day["date"])
                if date not in stored:
                    ingest_inventory(db.session, day["inventorySummaries"], seller_id=seller.id,
                                     marketplace_id=market, day=date)
            db.session.commit()


def seed_costs(app: Flask, sandbox: dict, connected: int = 2) -> None:
    """Queue the entry of the connected demo sellers' unit costs and fees, as their marketer would type them on
    the products page (the sandbox's catalog holds each product's true cost): promotion suggestions need them."""
    with _sandbox_admin(sandbox) as admin, app.app_context():
        by_seller: dict[str, dict[str, dict[str, list[float]]]] = {}
        for index, account, market in _connected_markets(sandbox, connected):
            catalog = admin.catalog(index, market)
            by_seller.setdefault(account["name"], {}).setdefault(catalog["currency"], {}).update({
                p["asin"]: [p["unit_cost"], p["referral_fee_pct"], p["fba_fee"]] for p in catalog["products"]})
        for name, costs in by_seller.items():
            seller = seller_service.find_seller(name)
            jobs.enqueue("default", enter_demo_costs, seller.id, costs, 1, job_id=f"demo-costs-{seller.id}-1",
                         unique=True)


def enter_demo_costs(seller_id: int, costs: dict[str, dict[str, list[float]]], attempt: int) -> str:
    """RQ job: once the seller's first sync has ended (its ASINs are known), import the costs of those still
    without one, as the products page's import does, and ask for promotion suggestions; until then look again
    in 15 s."""
    syncing = db.session.scalar(select(SyncRun.id).where(SyncRun.seller_id == seller_id,
                                                        SyncRun.status.in_(ACTIVE_RUN)).limit(1))
    rows = products.rows_for(seller_id)
    if (syncing is not None or not rows) and attempt < DEMO_COSTS_TRIES:
        jobs.queue("default").enqueue_in(dt.timedelta(seconds=15), enter_demo_costs, seller_id, costs, attempt + 1,
                                         job_id=f"demo-costs-{seller_id}-{attempt + 1}", unique=True,
                                         result_ttl=600)
        return "waiting"
    lines = []
    for row in rows:
        entry = costs.get(row.currency or "", {}).get(row.asin)
        if row.unit_cost is None and entry is not None:
            lines.append(",".join([row.asin, *(str(v) for v in entry)]))
    if not lines:
        return "nothing to enter"
    parsed, errors = products.read_import(
        ("asin,unit_cost,referral_fee_pct,fba_fee\n" + "\n".join(lines)).encode(), rows)
    if errors:
        return "; ".join(errors)
    marketer = accounts.find_user("marketer@example.com")
    products.import_lines(db.session.get(Seller, seller_id), rows, parsed, marketer)
    db.session.commit()
    promotions.enqueue(seller_id)
    return f"{len(parsed)} unit costs entered"


DEMO_WEEK_TRIES = 80  # × 15 s: the first sync of the sandbox sellers and its rollup finish well within


def seed_outbox(app: Flask) -> None:
    """Queue the demo's first weekly summaries: they land in the outbox once the first sync is in."""

    with app.app_context():
        jobs.enqueue("email", send_demo_week, 1, job_id="demo-week-1", unique=True)


def send_demo_week(attempt: int) -> str:
    """RQ job: send last week's summary to the demo marketer and admin (to the development outbox) as soon as
    the data of that week is stored; until then look again in 15 s."""


    users = [u for u in (accounts.find_user(e) for e, _, _ in DEMO_USERS[:2]) if u is not None]
    ready = all(weekly.digest_for(user).complete for user in users)
    if not ready and attempt < DEMO_WEEK_TRIES:
        jobs.queue("email").enqueue_in(dt.timedelta(seconds=15), send_demo_week, attempt + 1,
                                       job_id=f"demo-week-{attempt + 1}", unique=True, result_ttl=600)
        return "waiting"
    with transport.one_connection():
        outcomes = [weekly.send_to(user.id, weekly.current_week(preferences.get(user.id))) for user in users]
    return ", ".join(outcomes)
