"""The dashboard pages over HTTP: access, 404s, date ranges, escaping, CSV downloads, the plotly bundle."""

import csv
import datetime as dt
import io
import json
import re

import pytest

from marketing.clock import today_in
from marketing.web.vendor import PLOTLY_VERSION
from tests.dashboard.conftest import day

FIGURE = re.compile(r'<script type="application/json" class="plotly-figure" data-target="([^"]+)">(.*?)</script>',
                    re.S)


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.com", role="admin")
    login("admin@example.com")


def figures(html: str) -> dict:
    return {target: json.loads(body) for target, body in FIGURE.findall(html)}


@pytest.mark.sqlite
def test_pages_render_with_their_charts(client, admin, shop):
    pages = {
        "/": "overview-trend",
        f"/sellers/{shop.id}": "seller-trend",
        f"/sellers/{shop.id}/campaigns/1001?profile=111": "campaign-trend",
        f"/sellers/{shop.id}/targets/9001?profile=111": "bid-history",
    }
    for url, chart in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert chart in figures(html), url
        assert f'src="/vendor/plotly-{PLOTLY_VERSION}.min.js"' in html
        # Every script is external or a JSON data block: the CSP forbids inline code.
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    search = client.get(f"/sellers/{shop.id}/search-terms?profile=111&campaign=1001")
    assert search.status_code == 200 and "big family tent" in search.get_data(as_text=True)


def test_seller_page_shows_kpis_table_and_escapes_names(client, admin, shop):
    html = client.get(f"/sellers/{shop.id}").get_data(as_text=True)
    assert "1,050.00 USD" in html  # spend over the last 30 days, with its currency
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(" not in html
    assert "Amazon authorizations" in html and "days in UTC" in html
    campaign = client.get(f"/sellers/{shop.id}/campaigns/1002?profile=111").get_data(as_text=True)
    assert "<script>alert(" not in campaign
    hover = figures(campaign)["campaign-trend"]["data"][0]["hovertext"][0]
    assert hover.startswith("<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>")


def test_campaign_page_marks_inherited_bids(client, admin, shop):
    html = client.get(f"/sellers/{shop.id}/campaigns/1001?profile=111").get_data(as_text=True)
    row = re.search(r"camping tent</a>.*?</tr>", html, re.S).group(0)
    assert "0.75 USD" in row and "inherited" in row


@pytest.mark.sqlite
def test_target_page_marks_applied_bid_changes(client, admin, shop, db):
    from marketing import audit

    def at(day_before_today: int):
        return dt.datetime.combine(day(day_before_today), dt.time(12), tzinfo=dt.UTC)

    audit.record("bid.applied", target_type="target", target_id=9001, seller_id=shop.id, old_bid="1.00",
                 new_bid="1.10").at = at(5)
    audit.record("seller.renamed", target_type="target", target_id=9001, seller_id=shop.id).at = at(5)
    audit.record("bid.applied", target_type="target", target_id=9001, seller_id=shop.id, old_bid="1.10",
                 new_bid="1.20").at = at(-30)  # after the period shown: not drawn
    db.session.commit()
    html = client.get(f"/sellers/{shop.id}/targets/9001?profile=111").get_data(as_text=True)
    traces = figures(html)["bid-history"]["data"]
    assert traces[-1]["name"] == "Applied change" and len(traces[-1]["x"]) == 1
    assert "1.00 USD → 1.10 USD" in traces[-1]["hovertext"][0]
    rows = list(csv.reader(io.StringIO(client.get(f"/sellers/{shop.id}/targets/9001?profile=111&format=csv"
                                                  "&table=changes").get_data(as_text=True))))
    assert rows[0] == ["at_utc", "action", "by", "old_bid", "new_bid"]
    assert [r[1:] for r in rows[1:]] == [["bid.applied", "", "1.00", "1.10"]]


def test_viewer_sees_assigned_seller_and_404_for_others(client, make_user, make_seller, login, shop, seed):
    other = make_seller("Other Co")
    seed.connect(other, (222, "US", "USD", "UTC"))
    seed.campaign(other, 222, 5000, "Theirs")
    make_user("viewer@example.com", role="viewer", sellers=[shop])
    login("viewer@example.com")
    assert client.get(f"/sellers/{shop.id}").status_code == 200
    assert client.get(f"/sellers/{shop.id}/campaigns/1001?profile=111").status_code == 200
    overview = client.get("/").get_data(as_text=True)
    assert "Acme Outdoor" in overview and "Other Co" not in overview
    for url in [
        f"/sellers/{other.id}",  # foreign seller
        f"/sellers/{other.id}/campaigns/5000?profile=222",
        f"/sellers/{shop.id}?profile=222",  # another seller's profile
        f"/sellers/{shop.id}/campaigns/5000?profile=222",
        f"/sellers/{shop.id}/campaigns/5000?profile=111",  # a campaign of another profile
        f"/sellers/{shop.id}/campaigns/424242?profile=111",  # unknown
        f"/sellers/{shop.id}/targets/9999?profile=111",
        f"/sellers/{shop.id}/campaigns/abc?profile=111",  # malformed
        f"/sellers/{shop.id}/campaigns/1001?profile=abc",
        f"/sellers/{shop.id}/campaigns/1001?profile=-1",
        f"/sellers/{shop.id}/campaigns/99999999999999999999999?profile=111",  # beyond 64 bits
        f"/sellers/{shop.id}/targets/9001.5?profile=111",
        f"/sellers/{shop.id}/search-terms?profile=111&campaign=x",
        "/sellers/x/campaigns/1001",
    ]:
        assert client.get(url).status_code == 404, url


def test_bad_date_range_shows_a_message_and_the_default_range(client, admin, shop):
    for query in ["from=2026-13-01&to=2026-01-01", "from=2026-03-10&to=2026-03-01", "range=forever",
                  "from=%01&to=%ff", "from=2026-01-01&to=2099-01-01", "page=-3&sort=drop+table"]:
        response = client.get(f"/sellers/{shop.id}?{query}")
        assert response.status_code == 200, query
        html = response.get_data(as_text=True)
        assert 'name="from" value="2026-02-13"' in html, query  # the default: the last 30 complete days
    assert "Enter dates as YYYY-MM-DD" in client.get(f"/sellers/{shop.id}?from=x&to=y").get_data(as_text=True)
    assert client.get(f"/sellers/{shop.id}?from=%00&to=%ff").status_code == 400  # NUL: refused for every page
    week = client.get(f"/sellers/{shop.id}?range=7d").get_data(as_text=True)
    assert 'value="2026-03-08"' in week and 'class="active">Last 7 days' in week


@pytest.mark.sqlite
def test_presets_count_from_the_profiles_own_today(client, admin, make_seller, seed):
    """Kiritimati (UTC+14) is always exactly one day ahead of Honolulu (UTC-10): each profile's "last 7 days"
    ends on its own yesterday, as its reports do."""
    seller = make_seller("Dateline Goods")
    seed.connect(seller, (201, "US", "USD", "Pacific/Honolulu"), (202, "AU", "AUD", "Pacific/Kiritimati"))
    start = today_in("Pacific/Honolulu") - dt.timedelta(days=7)
    west = client.get(f"/sellers/{seller.id}?profile=201&range=7d").get_data(as_text=True)
    east = client.get(f"/sellers/{seller.id}?profile=202&range=7d").get_data(as_text=True)
    assert f'name="from" value="{start}"' in west
    assert f'name="from" value="{start + dt.timedelta(days=1)}"' in east


@pytest.mark.sqlite
def test_campaign_table_sorts_filters_and_pages(client, admin, shop):
    html = client.get(f"/sellers/{shop.id}?state=paused").get_data(as_text=True)
    assert "campaigns/1002" in html and "campaigns/1001" not in html
    html = client.get(f"/sellers/{shop.id}?sort=name&dir=asc").get_data(as_text=True)
    assert html.index("campaigns/1002") < html.index("campaigns/1001")  # "<" sorts before "T"
    assert "No campaign matches" in client.get(f"/sellers/{shop.id}?q=nothing").get_data(as_text=True)


@pytest.mark.sqlite
def test_csv_downloads(client, admin, shop):
    response = client.get(f"/sellers/{shop.id}?format=csv&sort=name&dir=asc")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["campaign_id"] for r in rows] == ["1002", "1001"]
    assert rows[1]["spend"] == "750.0000" and rows[1]["currency"] == "USD" and rows[1]["acos"] == "0.2500"
    terms = list(csv.DictReader(io.StringIO(client.get(
        f"/sellers/{shop.id}/search-terms?profile=111&format=csv").get_data(as_text=True))))
    assert {t["search_term"] for t in terms} == {"big family tent", "'=HYPERLINK(\"x\")"}  # no live formulas
    targets = list(csv.DictReader(io.StringIO(client.get(
        f"/sellers/{shop.id}/campaigns/1001?profile=111&format=csv").get_data(as_text=True))))
    assert {t["text"]: t["bid_inherited"] for t in targets} == {"tent 4 person": "False", "camping tent": "True"}
    groups = client.get(f"/sellers/{shop.id}/campaigns/1001?profile=111&format=csv&table=ad_groups")
    assert next(csv.DictReader(io.StringIO(groups.get_data(as_text=True))))["default_bid"] == "0.7500"
    days = client.get(f"/sellers/{shop.id}/targets/9001?profile=111&format=csv&range=7d")
    assert len(list(csv.DictReader(io.StringIO(days.get_data(as_text=True))))) == 7
    overview = list(csv.DictReader(io.StringIO(client.get("/?format=csv").get_data(as_text=True))))
    assert [(r["seller"], r["currency"], r["spend"]) for r in overview] == [("Acme Outdoor", "USD", "1050.0000")]


def test_empty_states_say_what_to_do(client, admin, make_seller, seed, db):
    from marketing.models import SyncRun

    bare = make_seller("Bare")
    assert "Connect Amazon Ads" in client.get(f"/sellers/{bare.id}").get_data(as_text=True)
    unchosen = make_seller("Unchosen")
    seed.connect(unchosen, (7, "US", "USD", "UTC"), managed=False)
    assert "Choose profiles to manage" in client.get(f"/sellers/{unchosen.id}").get_data(as_text=True)
    waiting = make_seller("Waiting")
    seed.connect(waiting, (8, "US", "USD", "UTC"))
    db.session.add(SyncRun(seller_id=waiting.id, kind="backfill", status="running", start_date=bare.created_at.date(),
                           end_date=bare.created_at.date()))
    db.session.commit()
    assert "First sync running" in client.get(f"/sellers/{waiting.id}").get_data(as_text=True)
    overview = client.get("/").get_data(as_text=True)
    assert "Choose profiles to manage" in overview and "First sync running" in overview


def test_plotly_bundle_is_served_from_the_package_with_a_long_cache(client):
    response = client.get(f"/vendor/plotly-{PLOTLY_VERSION}.min.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.immutable
    assert b"plotly" in response.data[:2000].lower()
    response.close()
    assert client.get("/vendor/plotly-0.0.1.min.js").status_code == 404
    assert client.get("/static/js/charts.js").status_code == 200


def _row(html: str, text: str) -> str:
    return re.search(rf"{re.escape(text)}</a>.*?</tr>", html, re.S).group(0)


def test_campaign_page_offers_pending_suggestions_inline(client, make_user, login, shop, seed, db):
    from marketing.models import Suggestion

    suggestion = seed.suggestion(shop, 111, 1001, 9001, "1.10", "1.30", label="tent 4 person")
    make_user("viewer@example.com", role="viewer", sellers=[shop])
    make_user("marketer@example.com", role="marketer", sellers=[shop])
    url = f"/sellers/{shop.id}/campaigns/1001?profile=111"
    login("viewer@example.com")
    row = _row(client.get(url).get_data(as_text=True), "tent 4 person")
    assert "→ 1.30 USD" in row and "Approve" not in row  # viewers see it, cannot act
    client.post("/logout")
    login("marketer@example.com")
    html = client.get(url).get_data(as_text=True)
    assert "1 pending bid suggestion" in html
    row = _row(html, "tent 4 person")
    assert 'value="approve"' in row and '<input type="hidden" name="send" value="1">' in row
    overview = client.get("/").get_data(as_text=True)
    assert f'href="/sellers/{shop.id}/suggestions">1</a>' in overview
    response = client.post(f"/sellers/{shop.id}/suggestions/decide",
                           data={"ids": suggestion.id, "action": "approve", "back": url})
    assert response.status_code == 303 and response.location == url
    assert db.session.get(Suggestion, suggestion.id).status == "approved"
    html = client.get(url).get_data(as_text=True)
    assert "pending bid suggestion" not in html
    row = _row(html, "tent 4 person")
    assert "approved 1.10 USD → 1.30 USD — waiting to be sent" in row and 'value="approve"' not in row
    assert "Send this seller's approved bids" in row


@pytest.fixture
def states(shop, seed, db):
    """Set a seeded suggestion's lifecycle fields the way the apply job leaves them."""
    def make(target_id, status, **fields):
        suggestion = seed.suggestion(shop, 111, 1001, target_id, "1.10", "1.30")
        suggestion.status = status
        for key, value in fields.items():
            setattr(suggestion, key, value)
        db.session.commit()
        return suggestion

    return make


def test_campaign_rows_show_the_latest_suggestions_state(client, make_user, login, shop, states):
    from decimal import Decimal

    from marketing.bids import apply

    make_user("marketer@example.com", role="marketer", sellers=[shop])
    login("marketer@example.com")
    url = f"/sellers/{shop.id}/campaigns/1001?profile=111"
    applied_at = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
    states(9001, "applied", previous_value=Decimal("1.10"), approved_value=Decimal("1.30"), applied_at=applied_at)
    states(9001, "rejected")  # a rejected newer one leaves the applied change on show
    states(9002, "stale", error_message="The bid on Amazon is now 0.90, not 1.10 as when this was suggested.")
    row = _row(client.get(url).get_data(as_text=True), "tent 4 person")
    assert "applied 1.10 USD → 1.30 USD on 2026-03-14 09:30 UTC" in row and "<form" not in row
    row = _row(client.get(url).get_data(as_text=True), "camping tent")
    assert "stale" in row and "The bid on Amazon is now 0.90" in row and "<form" not in row

    states(9001, "pending")  # a newer suggestion takes the row over
    states(9002, "failed", error_message="Amazon: bid above the maximum")
    html = client.get(url).get_data(as_text=True)
    assert "→ 1.30 USD" in _row(html, "tent 4 person") and "applied" not in _row(html, "tent 4 person")
    row = _row(html, "camping tent")
    assert "failed" in row and "Amazon: bid above the maximum" in row and "Try again" in row

    states(9002, "approved")
    row = _row(client.get(url).get_data(as_text=True), "camping tent")
    assert "waiting to be sent" in row and "data-sending" not in row and "approved bids</button>" in row
    apply.enqueue(shop.id)  # no worker here: the job waits in the queue
    row = _row(client.get(url).get_data(as_text=True), "camping tent")
    assert "approved 1.10 USD → 1.30 USD — sending to Amazon" in row and "data-sending" in row
    assert "<form" not in row


@pytest.mark.sqlite
def test_inline_approval_is_sent_at_once_unless_writes_are_paused(client, make_user, login, shop, seed, db):
    from marketing import jobs, settings_registry
    from marketing.bids import apply
    from marketing.models import Suggestion

    first = seed.suggestion(shop, 111, 1001, 9001, "1.10", "1.30", label="tent 4 person")
    second = seed.suggestion(shop, 111, 1001, 9002, "0.75", "0.60", label="camping tent")
    make_user("viewer@example.com", role="viewer", sellers=[shop])
    make_user("marketer@example.com", role="marketer", sellers=[shop])
    url = f"/sellers/{shop.id}/campaigns/1001?profile=111"
    form = {"ids": first.id, "action": "approve", "back": url, "send": "1"}
    login("viewer@example.com")
    assert client.post(f"/sellers/{shop.id}/suggestions/decide", data=form).status_code == 403
    client.post("/logout")
    login("marketer@example.com")

    settings_registry.set_value("writes_paused", "yes", actor=None, seller_id=shop.id)
    db.session.commit()
    html = client.post(f"/sellers/{shop.id}/suggestions/decide", data=form, follow_redirects=True).get_data(
        as_text=True)
    assert "1 suggestion approved. Not sent: writes to Amazon are paused for this seller" in html
    assert jobs.queue("default").fetch_job(apply.job_id(shop.id)) is None
    row = _row(html, "tent 4 person")
    assert "waiting to be sent" in row and "Writes to Amazon are paused for this seller" in row
    assert re.search(r"<button[^>]*disabled>Send this seller", row)

    settings_registry.set_value("writes_paused", "no", actor=None, seller_id=shop.id)
    db.session.commit()
    form["ids"] = second.id
    html = client.post(f"/sellers/{shop.id}/suggestions/decide", data=form, follow_redirects=True).get_data(
        as_text=True)
    assert "1 suggestion approved. Sending to Amazon; the row shows the outcome when it is done." in html
    assert jobs.queue("default").fetch_job(apply.job_id(shop.id)).get_status() == "queued"
    assert "sending to Amazon" in _row(html, "tent 4 person") and "sending to Amazon" in _row(html, "camping tent")
    assert {db.session.get(Suggestion, s.id).status for s in (first, second)} == {"approved"}


def test_batch_approval_on_the_suggestions_page_still_waits_for_send(client, make_user, login, shop, seed):
    from marketing import jobs
    from marketing.bids import apply

    suggestion = seed.suggestion(shop, 111, 1001, 9001, "1.10", "1.30", label="tent 4 person")
    make_user("marketer@example.com", role="marketer", sellers=[shop])
    login("marketer@example.com")
    html = client.post(f"/sellers/{shop.id}/suggestions/decide", data={"ids": suggestion.id, "action": "approve"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Send them to Amazon with “Send approved bids”." in html
    assert jobs.queue("default").fetch_job(apply.job_id(shop.id)) is None


@pytest.mark.sqlite
def test_real_amazon_ids_are_64_bit(client, admin, make_seller, seed):
    seller = make_seller("Big Ids")
    profile, campaign, target = 3_512_345_678_901_234, 281_474_976_710_656, 9_007_199_254_740_993
    seed.connect(seller, (profile, "US", "USD", "UTC"))
    seed.campaign(seller, profile, campaign, "Big", days={day(1): (10, 1, "1.00", 0, "0")})
    seed.ad_group(seller, profile, campaign, 77, "g", "0.50")
    seed.target(seller, profile, campaign, 77, target, "kw", days={day(1): (1, "1.00", 0, "0", "0.50")})
    base = f"/sellers/{seller.id}"
    assert client.get(f"{base}/campaigns/{campaign}?profile={profile}").status_code == 200
    html = client.get(f"{base}/targets/{target}?profile={profile}").get_data(as_text=True)
    assert "kw" in html and str(target) in html


ODD_NUMBERS = ["²", "١٢", "9" * 25, "-1", " 7 "]  # superscript, Arabic-Indic digits, beyond 64 bits, signed


@pytest.mark.parametrize("odd", ODD_NUMBERS)
def test_odd_numbers_typed_anywhere_never_give_a_500(client, admin, shop, odd):
    """`str.isdigit()` accepts "²" and "١٢", which `int()` refuses; huge ids overflow the database."""
    base = f"/sellers/{shop.id}"
    for url in ["/", f"/?page={odd}", f"{base}?page={odd}", f"{base}?profile={odd}", f"{base}/campaigns/{odd}",
                f"{base}/targets/{odd}?profile=111", f"{base}/search-terms?campaign={odd}",
                f"{base}/suggestions?campaign={odd}"]:
        assert client.get(url).status_code in (200, 404), url
    for form in [{"action": "approve", "ids": odd}, {"action": "approve", "ids": "1", f"bid-{odd}": "1.00"}]:
        assert client.post(f"{base}/suggestions/decide", data=form).status_code < 500, form
    assert client.post(f"{base}/connections/ads/profiles", data={"profile_ids": odd}).status_code < 500


def test_daily_rows_download_like_the_export(client, admin, shop):
    """One row per entity, day and profile (the `marketing export` columns), streamed; formulas neutralised."""
    base = f"/sellers/{shop.id}/daily.csv"
    response = client.get(f"{base}?level=campaign&range=30d")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 30 + 30  # both campaigns have rows on each of the last 30 days
    tents = [r for r in rows if r["campaign_id"] == "1001"]
    assert {r["cost"] for r in tents} == {"25.0000"} and tents[0]["currency"] == "USD"
    assert min(r["date"] for r in rows) == day(30).isoformat() and max(r["date"] for r in rows) == day(1).isoformat()
    terms = client.get(f"{base}?level=search-term&range=30d").get_data(as_text=True)
    assert "'=HYPERLINK" in terms and "\n=HYPERLINK" not in terms and ",=HYPERLINK" not in terms
    assert client.get(f"{base}?level=keyword").status_code == 404
    seller_page = client.get(f"/sellers/{shop.id}").get_data(as_text=True)
    assert f'href="/sellers/{shop.id}/daily.csv?level=target' in seller_page
