"""A bounded fuzz of every GET page's query parameters: hostile values never give a 500, are never reflected
unescaped, and never send the browser off-site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.security.routes import ADMINISTER, PUBLIC, RULES, TABLE, path_values

pytestmark = pytest.mark.sqlite

MARKUP = "\"'><x-fuzz>"
# Each parameter alone gets these; every page also gets each of the longer list in all its parameters at once.
SHARP = ("sNaN", "\x00\x1f\t\r\n%0d%0a", MARKUP + "ü١２\u202e")
HOSTILE = (*SHARP, "9" * 5000, "NaN", "-Infinity", "1e999", "-1", "0", "1_0", "2026-02-30", "../../../etc/passwd", "%",
           "/\t/evil.example", "[]")
PAGES = [endpoint for (endpoint, method), route in TABLE.items() if method == "GET" and route.params]


def _role(endpoint: str) -> str | None:
    access = TABLE[(endpoint, "GET")].access
    return None if access == PUBLIC else "admin" if access == ADMINISTER else "marketer"


def _cases():
    for endpoint in PAGES:
        for param in TABLE[(endpoint, "GET")].params:
            for value in SHARP:
                yield endpoint, param, value
        for value in HOSTILE:
            yield endpoint, "*", value


@pytest.mark.parametrize(("endpoint", "param", "value"),
                         [pytest.param(*case, id=f"{case[0]}-{case[1]}-{case[2][:12]!r}") for case in _cases()])
def test_hostile_query_values(world, endpoint, param, value):
    route = TABLE[(endpoint, "GET")]
    path = world.app.url_map.bind("localhost").build(endpoint, path_values(world, RULES[(endpoint, "GET")], "own"))
    query = {p: value for p in route.params} if param == "*" else {param: value}
    for role in {_role(endpoint), "marketer"} if endpoint == "auth.login" else {_role(endpoint)}:
        response = world.client(role).get(path, query_string=query)
        assert response.status_code < 500
        assert response.status_code in (200, 302, 303, 400, 404), response.status_code
        if response.mimetype == "text/html":
            assert "<x-fuzz>" not in response.get_data(as_text=True)
        if response.location:
            assert urlsplit(response.location).netloc in ("", "localhost"), response.location
