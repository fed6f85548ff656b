"""Open redirects: `next` and `back` only ever lead to a path on this site, read the way a browser reads it."""

from __future__ import annotations

import pytest

from marketing.web.redirects import safe_next
from tests.conftest import PASSWORD

pytestmark = pytest.mark.sqlite

OFF_SITE = ["/\t/evil.example", "/%09/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
            "https://evil.example", "javascript:alert(1)", "/\r\n/evil.example", "\t//evil.example",
            "/%2F/evil.example", "/%5Cevil.example", "/%252F%252Fevil.example", "/\u200b/evil.example",
            "/%0d%0aSet-Cookie:x=1", "", None]


@pytest.mark.parametrize("raw", OFF_SITE)
def test_off_site_or_hidden_targets_are_refused(raw):
    assert safe_next(raw) is None


@pytest.mark.parametrize(("raw", "path"), [
    ("/sellers/1?range=7d&page=2", "/sellers/1?range=7d&page=2"),
    (" /account ", "/account"),
    ("/a\r\nSet-Cookie: x=1", "/aSet-Cookie:%20x=1"),  # what a browser would follow, and ASCII
    ("/sellers/1/products?margin=ä b", "/sellers/1/products?margin=%C3%A4%20b"),
])
def test_local_paths_are_kept_as_a_browser_reads_them(raw, path):
    assert safe_next(raw) == path


def test_login_with_a_tab_in_next_stays_on_the_site(client, make_user):
    make_user("m@example.com")
    page = client.get("/login?next=/%09/evil.example")
    assert page.status_code == 200 and "evil.example" not in page.get_data(as_text=True)
    response = client.post("/login?next=/%09/evil.example", data={"email": "m@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    # and once logged in, /login?next=... redirects at once
    assert client.get("/login?next=/%09/evil.example").location == "/"
    assert client.get("/login?next=/account").location == "/account"


@pytest.mark.parametrize("next_value", ["/%0d%0aSet-Cookie:%20x=1", "/x%0aLocation:%20//evil.example", "%0d%0a"])
def test_cr_lf_in_next_never_reaches_a_header(client, make_user, next_value):
    make_user("m@example.com")
    assert client.get(f"/login?next={next_value}").status_code == 200
    response = client.post(f"/login?next={next_value}", data={"email": "m@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert "\r" not in response.location and "\n" not in response.location
    assert response.location.startswith("/") and not response.location.startswith("//")
    assert [c for c in response.headers.getlist("Set-Cookie") if c.startswith("x=")] == []


def test_the_suggestion_forms_back_field_stays_on_the_site(client, make_user, make_seller, login):
    seller = make_seller()
    make_user("m@example.com", "marketer", sellers=[seller])
    login("m@example.com")
    for back in ("/\t/evil.example", "//evil.example", "https://evil.example/x", "/\r\n/evil.example"):
        response = client.post(f"/sellers/{seller.id}/suggestions/run", data={"back": back})
        assert response.status_code == 303
        assert response.location == f"/sellers/{seller.id}/suggestions", back
    kept = client.post(f"/sellers/{seller.id}/suggestions/run", data={"back": f"/sellers/{seller.id}/suggestions"
                                                                             "?status=applied"})
    assert kept.location == f"/sellers/{seller.id}/suggestions?status=applied"
