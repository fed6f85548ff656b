"""The dashboard in a real Chromium: charts draw under the strict CSP, the date range and links work, and a bid
approved on the campaign page reaches (the sandbox's) Amazon and shows as applied.

Needs Debian's /usr/bin/chromium (driven by Python Playwright). Without it the tests skip, unless
REQUIRE_BROWSER=1 (CI), where a missing browser is a failure. The app here talks to a sandbox over HTTP, as in
production; the seeded seller's fake connection is never asked anything.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketing.sandbox.testing import running_sandbox
from tests.conftest import PASSWORD, SCREENSHOTS, sandbox_app

pytestmark = pytest.mark.browser




@pytest.fixture(scope="module")
def sbx(chromium):
    with running_sandbox(seed=7, report_delay=0.0) as handle:
        yield handle


@pytest.fixture
def app(make_app, sbx):
    """The app wired to the sandbox, with the sync suite's short timings."""
    from tests.sync.conftest import SYNC_CONFIG

    with sandbox_app(make_app, sbx, **SYNC_CONFIG) as app:
        yield app


@pytest.fixture
def live_url(app):
    """The test app served over HTTP on a free local port, in a thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browse(chromium, live_url):
    """A logged-in page and the console errors and page errors collected on it (the test asserts none)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    problems: list[str] = []

    def open_as(email: str):
        page = context.new_page()
        # The browser's own favicon request is not the app's doing (there is no favicon).
        page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text} {msg.location}")
                if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico") else None)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.goto(f"{live_url}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#overview-trend[data-rendered] .main-svg")
        return page, problems

    yield open_as
    context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_overview_seller_range_and_campaign_in_chromium(browse, make_user, shop, seed):
    make_user("browser@example.com", role="marketer", sellers=[shop])
    seed.suggestion(shop, 111, 1001, 9001, "1.10", "1.30", label="tent 4 person")
    page, problems = browse("browser@example.com")
    _shot(page, "1-overview")

    page.click("text=Acme Outdoor")
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    assert page.locator("#campaigns").inner_text().count("<script>alert(1)</script>") == 1  # shown as text
    _shot(page, "2-seller")

    page.click(".presets >> text=Last 7 days")
    page.wait_for_url("**range=7d**")
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    assert page.input_value("input[name=from]") == "2026-03-08"
    page.fill("input[name=from]", "2026-03-01")
    page.fill("input[name=to]", "2026-03-10")
    page.click(".range-form button[type=submit]")
    page.wait_for_url("**from=2026-03-01**")
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    _shot(page, "3-seller-range")

    page.click("#campaigns >> text=Tents - Exact")
    page.wait_for_selector("#campaign-trend[data-rendered] .main-svg")
    assert "inherited" in page.locator("#targets").inner_text()
    assert page.input_value("input[name=from]") == "2026-03-01"  # the range follows the link
    assert "→ 1.30 USD" in page.locator("#targets tr", has_text="tent 4 person").inner_text()
    _shot(page, "4-campaign")
    assert problems == []


@pytest.fixture
def synced(app, db, sbx, queue):
    """Sandbox seller 0 connected (US profile), two weeks synced, the after-sync jobs (rollups, the bid engine)
    done; plus a pending suggestion of our own on an enabled keyword with a bid of its own, based on its live
    bid, so that the test does not depend on what the engine proposes."""
    from marketing.clock import set_today
    from marketing.models import Seller, SpCampaign, SpTarget, Suggestion, SuggestionRun
    from tests.sync.conftest import connect, sync

    set_today(sbx.admin.today())  # the dashboard's autouse pin is for its seeded data
    seller_id = connect(sbx, 0, countries=("US",)).id
    assert sync(db.session.get(Seller, seller_id), days=14)["status"] == "succeeded"
    queue.work("default")
    taken = set(db.session.scalars(select(Suggestion.entity_id).where(Suggestion.status == "pending")))
    keyword, campaign = next((t, c) for t, c in db.session.execute(
        select(SpTarget, SpCampaign).join(SpCampaign, (SpCampaign.campaign_id == SpTarget.campaign_id)
                                          & (SpCampaign.profile_id == SpTarget.profile_id))
        .where(SpTarget.seller_id == seller_id, SpTarget.kind == "keyword", SpTarget.state == "ENABLED",
               SpTarget.bid.is_not(None), SpCampaign.state == "ENABLED")
        .order_by(SpTarget.target_id)).all() if t.target_id not in taken)
    current = _live_bid(seller_id, keyword.profile_id, keyword.target_id)
    run = SuggestionRun(seller_id=seller_id, kind="bid", status="succeeded", trigger="manual")
    db.session.add(run)
    db.session.flush()
    proposed = (current * Decimal("1.2")).quantize(Decimal("0.01"))
    suggestion = Suggestion(
        seller_id=seller_id, run_id=run.id, kind="bid", profile_id=keyword.profile_id, entity_kind="keyword",
        entity_id=keyword.target_id, entity_ref=str(keyword.target_id),
        campaign_id=keyword.campaign_id, ad_group_id=keyword.ad_group_id,
        label=keyword.text, current_value=current, proposed_value=proposed, direction="up", status="pending",
        reason="below_target_acos", explanation="ACoS 12% is below the 30% target.")
    db.session.add(suggestion)
    db.session.commit()
    return {"seller_id": seller_id, "name": sbx.sellers[0].name, "campaign": campaign.name,
            "profile_id": keyword.profile_id,
            "target_id": keyword.target_id, "text": keyword.text, "current": current, "proposed": proposed,
            "suggestion_id": suggestion.id}


def _live_bid(seller_id: int, profile_id: int, target_id: int) -> Decimal:
    """The keyword's bid as Amazon (the sandbox) has it now, read through the product's Ads client."""
    from marketing.bids.apply import live_bids
    from marketing.connections import clients
    from marketing.extensions import db
    from marketing.models import Seller

    with clients.http_client() as http:
        ads = clients.ads_client(db.session.get(Seller, seller_id).connection("ads"), http)
        return live_bids(ads, profile_id, "keyword", [target_id])[target_id][1]


def test_a_bid_approved_on_the_campaign_page_reaches_amazon_and_shows_applied(browse, synced, make_user, queue, db):
    from marketing.formatting import money
    from marketing.models import Seller, Suggestion

    campaign, text = synced["campaign"], synced["text"]
    old, new = money(synced["current"], "USD"), money(synced["proposed"], "USD")
    make_user("marketer@example.com", role="marketer", sellers=[db.session.get(Seller, synced["seller_id"])])
    page, problems = browse("marketer@example.com")
    _shot(page, "sandbox-1-overview")

    page.get_by_role("link", name=synced["name"], exact=True).first.click()
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    page.click(".presets >> text=Last 7 days")
    page.wait_for_url("**range=7d**")
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    page.fill("input[name=q]", campaign)  # the campaigns table's name filter
    page.keyboard.press("Enter")
    page.wait_for_url("**q=**")
    _shot(page, "sandbox-2-seller")

    page.locator("#campaigns").get_by_role("link", name=campaign, exact=True).click()
    page.wait_for_selector("#campaign-trend[data-rendered] .main-svg")
    assert "range=7d" in page.url  # the range followed the link
    page.fill("input[name=q]", text)  # the keyword may be beyond the table's first page
    page.keyboard.press("Enter")
    page.wait_for_url("**q=**")
    row = page.locator("#targets tr", has=page.locator(f"a[href*='/targets/{synced['target_id']}?']"))
    assert f"→ {new}" in row.inner_text() and old in row.locator("td.num").first.inner_text()
    _shot(page, "sandbox-3-campaign")

    row.locator("button[value=approve]").click()
    page.wait_for_selector("text=1 suggestion approved. Sending to Amazon")
    row.locator("td[data-state=approved][data-sending]").wait_for()
    assert "sending to Amazon" in row.inner_text()
    _shot(page, "sandbox-4-sending")

    queue.work("default")  # the worker sends it while the page waits; the page picks the outcome up itself
    row.locator("td[data-state=applied]").wait_for(timeout=20_000)
    assert f"applied {old} → {new} on " in row.inner_text()
    assert row.locator("td.num").first.inner_text().strip() == new  # the current bid column
    _shot(page, "sandbox-5-applied")

    db.session.expire_all()
    assert db.session.get(Suggestion, synced["suggestion_id"]).status == "applied"
    assert _live_bid(synced["seller_id"], synced["profile_id"], synced["target_id"]) == synced["proposed"]
    assert problems == []
