"""Every POST route refuses a request without a CSRF token, and one carrying another session's token."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token
from tests.security.routes import RULES, TABLE, path_values

# RFC 8058 one-click unsubscribe is posted by the mail client with no session at all; its signed link is the proof
# (tests/email cover tampered and replayed links). Every other POST needs the session's token.
EXEMPT = {"mail.unsubscribe"}
POSTS = [endpoint for endpoint, method in TABLE if method == "POST" and endpoint not in EXEMPT]
REFUSED = "The form expired or was tampered with"


def _post(world, endpoint, client, token=None):
    path = world.app.url_map.bind("localhost").build(endpoint, path_values(world, RULES[(endpoint, "POST")], "own"),
                                                     method="POST")
    return client.post(path, data={} if token is None else {"csrf_token": token})


@pytest.mark.parametrize("endpoint", POSTS)
def test_post_without_a_token_is_refused(csrf_world, endpoint):
    response = _post(csrf_world, endpoint, csrf_world.client("admin"))
    assert response.status_code == 400 and REFUSED in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", POSTS)
def test_post_with_another_sessions_token_is_refused(csrf_world, endpoint):
    theirs = csrf_token(csrf_world.client("viewer").get("/account").get_data(as_text=True))
    response = _post(csrf_world, endpoint, csrf_world.client("admin"), theirs)
    assert response.status_code == 400 and REFUSED in response.get_data(as_text=True)


def test_only_the_one_click_unsubscribe_is_exempt(csrf_world):
    """The exemption is the view's own (csrf.exempt), not a gap in the table."""
    views, exempt_views = csrf_world.app.view_functions, csrf_world.app.extensions["csrf"]._exempt_views
    exempt = {endpoint for endpoint, method in TABLE if method == "POST"
              and f"{views[endpoint].__module__}.{views[endpoint].__name__}" in exempt_views}
    assert exempt == EXEMPT


def test_the_sessions_own_token_is_accepted(csrf_world):
    """The refusals above are the token check, not something else about the requests."""
    client = csrf_world.client("admin")
    mine = csrf_token(client.get("/account").get_data(as_text=True))
    assert _post(csrf_world, "connections.mark_read", client, mine).status_code == 302
