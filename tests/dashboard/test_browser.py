"""The dashboard in a real Chromium: charts draw under the strict CSP, the date range and links work.

Needs Debian's /usr/bin/chromium (driven by Python Playwright). Without it the test skips, unless
REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); set REQUIRE_BROWSER=1 to require it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


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


def test_overview_seller_range_campaign_and_approval_in_chromium(browser, live_url, make_user, shop, seed):
    from tests.conftest import PASSWORD

    make_user("browser@example.com", role="marketer", sellers=[shop])
    seed.suggestion(shop, 111, 1001, 9001, "1.10", "1.30", label="tent 4 person")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    problems: list[str] = []
    # The browser's own favicon request is not the app's doing (there is no favicon).
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text} {msg.location}")
            if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", "browser@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#overview-trend[data-rendered] .main-svg")
    page.screenshot(path=str(SCREENSHOTS / "1-overview.png"), full_page=True)

    page.click("text=Acme Outdoor")
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    assert page.locator("#campaigns").inner_text().count("<script>alert(1)</script>") == 1  # shown as text
    page.screenshot(path=str(SCREENSHOTS / "2-seller.png"), full_page=True)

    page.click(".presets >> text=Last 7 days")
    page.wait_for_url("**range=7d**")
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    assert page.input_value("input[name=from]") == "2026-03-08"
    page.fill("input[name=from]", "2026-03-01")
    page.fill("input[name=to]", "2026-03-10")
    page.click(".range-form button[type=submit]")
    page.wait_for_url("**from=2026-03-01**")
    page.wait_for_selector("#seller-trend[data-rendered] .main-svg")
    page.screenshot(path=str(SCREENSHOTS / "3-seller-range.png"), full_page=True)

    page.click("#campaigns >> text=Tents - Exact")
    page.wait_for_selector("#campaign-trend[data-rendered] .main-svg")
    assert "inherited" in page.locator("#targets").inner_text()
    assert page.input_value("input[name=from]") == "2026-03-01"  # the range follows the link
    page.screenshot(path=str(SCREENSHOTS / "4-campaign.png"), full_page=True)

    row = page.locator("#targets tr", has_text="tent 4 person")
    assert "→ 1.30 USD" in row.inner_text()
    row.locator("button[value=approve]").click()
    page.wait_for_selector("text=1 suggestion approved.")
    page.wait_for_selector("#campaign-trend[data-rendered] .main-svg")
    assert "→ 1.30 USD" not in page.locator("#targets").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "5-approved.png"), full_page=True)

    assert problems == []
