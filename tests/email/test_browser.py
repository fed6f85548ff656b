"""The weekly summary's HTML part rendered in a real Chromium: bars drawn by CSS alone, nothing remote loaded,
no script; screenshot in artifacts/screenshots/."""

from __future__ import annotations

import pytest

from marketing.connections.status import derive
from marketing.digest import weekly
from tests.conftest import SCREENSHOTS
from tests.email.conftest import WEEK

pytestmark = pytest.mark.browser




def test_weekly_summary_renders_in_chromium(chromium, mail, marketer, seeded, db):
    import datetime as dt

    from marketing.clock import now

    connection = seeded.connection("ads")
    connection.authorized_at, connection.expires_at = now() - dt.timedelta(days=355), now() + dt.timedelta(days=9)
    db.session.commit()
    assert derive(connection, now(), 30).state == "expiring"
    assert weekly.send_to(marketer.id, WEEK) == "sent"
    html = mail.parsed().get_body(("html",)).get_content()
    assert "expires in 9 days" in html and ">Renew<" in html

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport={"width": 720, "height": 900})
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("data:", "about:")) else None)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.set_content(html, wait_until="load")
    assert page.title().startswith("Weekly summary")
    bars = page.eval_on_selector_all("table[role=presentation] span",
                                     "spans => spans.map(s => s.getBoundingClientRect().height)")
    assert len(bars) == 14 and max(bars) == 60 and min(bars) > 0  # 7 days × (spend, sales), drawn by CSS
    assert page.locator("text=Tents - Exact").count() >= 1
    assert page.locator("script, img, link[rel=stylesheet]").count() == 0
    assert requests == [] and problems == []
    page.screenshot(path=str(SCREENSHOTS / "email-weekly.png"), full_page=True)
    assert (SCREENSHOTS / "email-weekly.png").stat().st_size > 10_000
    page.close()
