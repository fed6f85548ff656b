"""Every route × anonymous/viewer/marketer/admin × own seller / foreign seller / another seller's sub-id /
malformed ids, checked against the one declared table in tests/security/routes.py."""

from __future__ import annotations

import pytest

from tests.security.routes import RULES, TABLE, expected, path_values, variants

ROLE_ORDER = (None, "viewer", "marketer", "admin")


def _cases():
    """GET pages first, then state changes in the table's order; per route the roles, then the variants, so
    that a request that changes something (an allowed POST on the own seller) comes after its refusals."""
    keys = [k for k in TABLE if k[1] == "GET"] + [k for k in TABLE if k[1] != "GET"]
    keys = [k for k in keys if k in RULES]  # an undeclared or stale entry fails test_every_route_is_in_the_table
    for endpoint, method in keys:
        for role in ROLE_ORDER:
            for variant in variants(RULES[(endpoint, method)]) if role else ("own",):
                yield pytest.param(endpoint, method, role, variant,
                                   id=f"{endpoint}-{method}-{role or 'anonymous'}-{variant}")


def test_every_route_is_in_the_table():
    """A new route must be declared, with who may use it, before it ships."""
    assert sorted(set(RULES) - set(TABLE)) == [], "add these routes to tests/security/routes.py"
    assert sorted(set(TABLE) - set(RULES)) == [], "these routes in tests/security/routes.py do not exist"


@pytest.mark.parametrize(("endpoint", "method", "role", "variant"), list(_cases()))
def test_route(world, endpoint, method, role, variant):
    rule, route = RULES[(endpoint, method)], TABLE[(endpoint, method)]
    values = path_values(world, rule, variant)
    path = world.app.url_map.bind("localhost").build(endpoint, values, method=method)
    client = world.client(role)
    response = client.open(path, method=method, data={} if method == "POST" else None)
    allowed = expected(route, "seller_id" in rule.arguments, role, variant)
    assert response.status_code in allowed, f"{method} {path} as {role or 'anonymous'}: {response.status_code}"
    if role is None and route.access != "public":
        assert response.location.startswith("/login?next=")
    if endpoint == "auth.logout" and role:
        world.clients.pop(role)  # its session ended
