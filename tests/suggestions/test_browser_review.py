"""The review page in a real Chromium with 10,000 pending suggestions: filter by reason, select all matching,
approve, watch the job's progress, see them approved; no console errors. Screenshots go to artifacts/."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from marketing.models import Suggestion
from marketing.suggestions import lifecycle
from tests.conftest import PASSWORD, SCREENSHOTS

pytestmark = pytest.mark.browser




@pytest.fixture
def live_url(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_approve_all_matching_10000_in_chromium(chromium, live_url, db, queue, make_user, seller, fill):
    fill(15_000)  # reasons r0, r1, r2 in turn: 5,000 each
    fill(5_000, reason="r1")
    make_user("browser@example.com", "marketer", sellers=[seller])
    seller_id = seller.id  # the in-process worker ends this session: objects loaded here are detached after it
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", "browser@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/")

    page.goto(f"{live_url}/sellers/{seller_id}/suggestions")
    assert page.locator("tr[data-id]").count() == 50
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 2_500, f"a 50-row page is {height}px tall at 1400px"
    filters = page.locator("#filters").bounding_box()
    assert filters["x"] + filters["width"] <= 1400  # the filter bar wraps instead of running off the edge
    page.screenshot(path=str(SCREENSHOTS / "review-1-page.png"), full_page=True)

    page.select_option("select[name=reason]", "r1")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**reason=r1**")
    assert "10,000" in page.locator("#totals").inner_text()
    page.locator("tr[data-id] details summary").first.click()  # the explanation opens in place
    assert page.locator("tr[data-id] details[open] dl.inputs").count() == 1
    page.check("input[name=scope][value=matching]")
    page.screenshot(path=str(SCREENSHOTS / "review-2-filtered.png"), full_page=True)
    page.click(".bulk-bar button[value=approve]")
    page.wait_for_selector("#bulk-progress")
    assert "Working: 0 of 10,000 done." in page.locator("#bulk-progress").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "review-3-progress.png"), full_page=True)

    queue.work("default")  # the worker; the page refreshes itself meanwhile
    page.wait_for_selector("#bulk-progress[data-state=finished]", timeout=60_000)
    assert "10,000 suggestions approved." in page.locator("#bulk-progress").inner_text()
    assert "No pending suggestions match." in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "review-4-done.png"), full_page=True)

    page.goto(f"{live_url}/sellers/{seller_id}/suggestions?status=approved&reason=r1")
    assert "10,000" in page.locator("#totals").inner_text()
    context.close()
    counts = dict(db.session.execute(select(Suggestion.reason, func.count())
                                     .where(Suggestion.status == lifecycle.APPROVED).group_by(Suggestion.reason)).all())
    assert counts == {"r1": 10_000}
    assert problems == []
