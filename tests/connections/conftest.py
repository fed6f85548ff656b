"""Fixtures for the seller-connection suite: one sandbox (fake Amazon) for the whole run, and an app wired to it.

Tests that revoke a token revoke a *fresh* one (`fresh_token`), never a sandbox seller's seeded token, so the
shared sandbox stays usable; faults are cleared and the sandbox's wall clock reset around every test.
"""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urlsplit

import httpx
import pytest

from marketing.sandbox.testing import running_sandbox
from tests.conftest import sandbox_app, sandbox_config

PUBLIC_URL = "http://127.0.0.1"


class WallClock:
    """The sandbox's wall clock (token and code lifetimes): real time plus an offset tests may move."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="session")
def wall_clock():
    return WallClock()


@pytest.fixture(scope="session")
def sbx(wall_clock):
    callbacks = {api: [f"{PUBLIC_URL}/connections/{api}/callback"] for api in ("ads", "sp")}
    with running_sandbox(seed=7, report_delay=0.0, wall_clock=wall_clock, redirect_uris=callbacks) as handle:
        yield handle


def amazon_config(sbx) -> dict:
    """The app config pointing at the sandbox, with the public URL its consent pages redirect back to."""
    return {**sandbox_config(sbx), "PUBLIC_URL": PUBLIC_URL}


@pytest.fixture
def app(make_app, sbx, wall_clock):
    """The app of every test here talks to the sandbox."""
    wall_clock.offset = 0.0
    with sandbox_app(make_app, sbx, PUBLIC_URL=PUBLIC_URL) as app:
        yield app
    wall_clock.offset = 0.0


@pytest.fixture
def fresh_token(sbx):
    """A newly issued refresh token for sandbox seller `index` (as if it had consented again): safe to revoke."""
    tokens = sbx.sandbox.tokens
    return lambda api, index=0: tokens.refresh_token(tokens.new_grant(api, index))


@pytest.fixture
def seller_like(make_seller, sbx):
    """A seller of ours named and placed like sandbox seller `index`."""
    return lambda index=0: make_seller(sbx.sellers[index].name, sbx.sellers[index].region)


def _hidden_inputs(html: str) -> dict[str, str]:
    return {unescape(name): unescape(value)
            for name, value in re.findall(r"<input type='hidden' name='([^']*)' value='([^']*)'>", html)}


def consent_start(client, seller_id: int, api: str) -> str:
    """Press Connect on our page: the Amazon consent URL that the answer's page moves on to."""
    start = client.post(f"/sellers/{seller_id}/connections/{api}/authorize")
    assert start.status_code == 200, start.data
    return unescape(re.search(r'<a href="([^"]+)" id="continue">', start.get_data(as_text=True)).group(1))


def consent(client, seller_id: int, api: str, *, sandbox_seller: int = 0, decision: str = "allow") -> str:
    """Press Connect on our page, walk the sandbox's consent page like a browser, and return the callback
    path (with its query) that Amazon redirects the browser to."""
    consent_page = consent_start(client, seller_id, api)
    with httpx.Client(timeout=10) as browser:
        page = browser.get(consent_page)
        assert page.status_code == 200, page.text
        action = re.search(r"<form method='post' action='([^']+)'", page.text).group(1)
        form = {**_hidden_inputs(page.text), "seller": str(sandbox_seller), "decision": decision}
        answer = browser.post(urlsplit(consent_page)._replace(path=action, query="").geturl(), data=form)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL
    return f"{back.path}?{back.query}"


def flashes(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<div class="flash flash-\w+" role="status">(.*?)</div>', html, re.S)]
