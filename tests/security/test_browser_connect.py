"""Connecting a seller to Amazon in a real Chromium under the CSP's `form-action 'self'`: Chromium applies
form-action to the redirects that answer a form, so the Connect button must reach Amazon's consent page
another way (our page moves on to it)."""

from __future__ import annotations

import threading

import pytest

from marketing.sandbox.testing import running_sandbox
from tests.conftest import PASSWORD, _clean, sandbox_config

pytestmark = pytest.mark.browser


@pytest.fixture
def live(make_app):
    from werkzeug.serving import make_server

    with running_sandbox(seed=7, report_delay=0.0) as sbx:
        app = make_app(**sandbox_config(sbx))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with app.app_context():
                yield app, f"http://127.0.0.1:{server.server_port}", sbx
                _clean(app)
        finally:
            server.shutdown()
            thread.join(5)


def test_connect_reaches_amazons_consent_page_under_form_action_self(chromium, live, make_user, make_seller):
    app, url, sbx = live
    seller = make_seller()
    make_user("admin@example.com", "admin")
    context = chromium.new_context()
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        page.goto(f"{url}/login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        response = page.goto(f"{url}/sellers/{seller.id}")
        assert "form-action 'self';" in response.headers["content-security-policy"] + ";"
        page.click("button:has-text('Connect Amazon Ads')")
        page.wait_for_url(f"{sbx.url}/ap/oa**", timeout=15_000)
        assert "state=" in page.url
    finally:
        context.close()
    assert refused == []
