"""Login, roles and seller visibility, with the status codes the foundation promises."""

import pytest


def test_unauthenticated_page_redirects_to_login_with_next(client):
    response = client.get("/admin/users?x=1")
    assert response.status_code == 302
    assert response.location == "/login?next=/admin/users?x%3D1"


def test_unauthenticated_json_gets_401(client):
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json == {"error": "authentication required"}


def test_wrong_password_is_401_with_the_form_and_no_enumeration(client, make_user, login):
    make_user("known@example.com")
    wrong = login("known@example.com", "nope nope nope")
    unknown = login("nobody@example.com", "nope nope nope")
    assert wrong.status_code == unknown.status_code == 401
    assert b'name="password"' in wrong.data
    assert b"Invalid email or password." in wrong.data and b"Invalid email or password." in unknown.data


def test_login_follows_only_local_next(client, make_user):
    make_user("m@example.com")
    ok = client.post("/login?next=/admin/audit", data={"email": "m@example.com", "password": "correct horse battery"})
    assert ok.location == "/admin/audit"
    client.post("/logout")
    evil = client.post("/login?next=//evil.example/x", data={"email": "m@example.com",
                                                               "password": "correct horse battery"})
    assert evil.location == "/"


@pytest.mark.sqlite
def test_marketer_sees_only_assigned_sellers_and_404_for_others(client, make_user, make_seller, login):
    mine, theirs = make_seller("Mine Co"), make_seller("Theirs Co")
    make_user("m@example.com", "marketer", sellers=[mine])
    login("m@example.com")
    overview = client.get("/")
    assert b"Mine Co" in overview.data and b"Theirs Co" not in overview.data
    assert client.get(f"/sellers/{mine.id}").status_code == 200
    assert client.get(f"/sellers/{theirs.id}").status_code == 404
    assert client.get("/sellers/999999").status_code == 404
    assert client.get("/sellers/not-a-number").status_code == 404


def test_admin_sees_every_seller(client, make_user, make_seller, login):
    make_seller("One"), make_seller("Two")
    make_user("a@example.com", "admin")
    login("a@example.com")
    page = client.get("/").data
    assert b"One" in page and b"Two" in page


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_admin_pages_are_403_for_other_roles(client, make_user, login, role):
    make_user("u@example.com", role)
    login("u@example.com")
    for path in ("/admin/users", "/admin/audit", "/admin/settings", "/admin/jobs", "/sellers/new"):
        assert client.get(path).status_code == 403, path


def test_empty_states_depend_on_role(client, make_user, login):
    make_user("a@example.com", "admin")
    make_user("v@example.com", "viewer")
    login("a@example.com")
    assert b"Add your first seller" in client.get("/").data
    client.post("/logout")
    login("v@example.com")
    assert b"No sellers assigned to you yet" in client.get("/").data


def test_deactivated_user_cannot_log_in_and_loses_open_sessions(client, app, db, make_user, login):
    user = make_user("m@example.com")
    assert login("m@example.com").status_code == 302
    assert client.get("/").status_code == 200
    user.active = False
    user.end_sessions()
    db.session.commit()
    assert client.get("/").status_code == 302
    assert login("m@example.com").status_code == 401


def test_csrf_is_enforced_when_enabled(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("m@example.com")
    client = app.test_client()
    response = client.post("/login", data={"email": "m@example.com", "password": "correct horse battery"})
    assert response.status_code == 400
    assert b"The form expired or was tampered with" in response.data
