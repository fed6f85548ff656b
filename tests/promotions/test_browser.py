"""The done-when flow in a real Chromium, as far as this package goes: the Promotions page draws its timeline
under the strict CSP, a marketer approves the suggested coupon, the plan page links to Seller Central's create
page on the configured Amazon origin (the sandbox in the demo), and the plan is marked entered.

Needs Debian's /usr/bin/chromium; skips without it unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from marketing.models import PromotionPlan, Suggestion
from tests.conftest import PASSWORD, SCREENSHOTS, _clean
from tests.promotions.conftest import TODAY

pytestmark = pytest.mark.browser
AMAZON = "http://127.0.0.1:9"  # where AMAZON_BASE_URL points (the sandbox's origin in the demo); never opened here


@pytest.fixture
def app(make_app):
    app = make_app(AMAZON_BASE_URL=AMAZON)
    with app.app_context():
        yield app
        _clean(app)


@pytest.fixture
def live_url(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_approve_a_suggested_coupon_follow_the_link_and_mark_it_entered(chromium, live_url, db, seller, rows,
                                                                        make_user):
    from marketing.promotions import service

    start = TODAY - dt.timedelta(days=20)
    rows.history("B0COST", during={start + dt.timedelta(days=n): (20, "16.00") for n in range(7)})
    rows.product("B0COST")
    rows.promotion("C-PAST", ["B0COST"], start, start + dt.timedelta(days=6))
    service.run_suggestions(seller.id)
    make_user("browser@example.com", "marketer", sellers=[seller])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error"
            and not msg.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", "browser@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_url}/sellers/{seller.id}/promotions")
    page.wait_for_selector("#promotion-timeline[data-rendered] .main-svg")
    assert "C-PAST" in page.locator("#past").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "promotions-1-page.png"), full_page=True)

    page.click("[data-asin=B0COST] button:has-text('Approve')")
    page.wait_for_selector("a[data-seller-central]")
    href = page.get_attribute("a[data-seller-central]", "href")
    assert href.startswith(f"{AMAZON}/coupons/create?asin=B0COST&discount_type=PERCENT_OFF_LIST_PRICE&discount=20")
    page.screenshot(path=str(SCREENSHOTS / "promotions-2-plan.png"), full_page=True)
    page.fill("input[name=amazon_id]", "C-ENTERED")
    page.click("button:has-text('Mark entered')")
    page.wait_for_selector("[data-state=entered]")
    db.session.expire_all()
    plan = db.session.scalar(select(PromotionPlan))
    assert (plan.state, plan.amazon_id) == ("entered", "C-ENTERED")
    assert db.session.get(Suggestion, plan.suggestion_id).status == "applied"
    assert problems == []
    context.close()
