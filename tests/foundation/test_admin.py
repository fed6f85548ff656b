"""Admin pages: inviting users, roles and assignments, deactivation, the audit log and app settings."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketing.models import AuditEvent, SettingValue, User
from tests.conftest import PASSWORD
from tests.foundation.helpers import reset_path

pytestmark = pytest.mark.sqlite


def _user(db, email):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_invite_shows_a_one_time_link_and_the_user_is_invited(client, admin, db, audit_events):
    response = client.post("/admin/users", data={"email": "New@Example.com", "role": "viewer", "name": "Nia"})
    assert response.status_code == 302
    invited = _user(db, "new@example.com")
    assert response.location == f"/admin/users/{invited.id}"
    assert (invited.role, invited.name, invited.password_hash, invited.active) == ("viewer", "Nia", None, True)
    page = client.get(response.location).get_data(as_text=True)
    path = reset_path(page)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "new@example.com" in listing and "invited" in listing
    assert audit_events("user.created")[-1].actor_id == admin.id

    client.post("/logout")
    assert client.post(path, data={"new_password": "invited user's password",
                                   "confirm_password": "invited user's password"}).status_code == 302
    assert client.get(path).status_code == 404
    assert client.post("/login", data={"email": "new@example.com",
                                       "password": "invited user's password"}).status_code == 302


INVITE_MISTAKES = [
    ({"email": "ADMIN@example.com", "role": "viewer"}, "already exists"),
    ({"email": "not an email", "role": "viewer"}, "not valid"),
    ({"email": "x@example.com", "role": "owner"}, "Role must be one of"),
    ({"email": "", "role": "viewer"}, "not valid"),
]


def test_invite_mistakes_are_400_with_a_message(client, admin, db):
    for form, message in INVITE_MISTAKES:
        response = client.post("/admin/users", data=form)
        assert response.status_code == 400, form
        assert message in response.get_data(as_text=True), form
        assert form["email"] in response.get_data(as_text=True)  # the form keeps what was typed
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_role_change_and_seller_assignment_are_audited(client, admin, make_user, make_seller, db, audit_events):
    one, two = make_seller("One"), make_seller("Two")
    target = make_user("m@example.com", "marketer", sellers=[one])
    response = client.post(f"/admin/users/{target.id}", data={"role": "viewer", "seller_ids": [str(two.id)]})
    assert response.status_code == 302
    target = _user(db, "m@example.com")
    assert target.role == "viewer" and [s.name for s in target.sellers] == ["Two"]
    (role,) = audit_events("user.role_changed")
    assert (role.actor_id, role.target_id, role.details) == (admin.id, str(target.id),
                                                             {"old": "marketer", "new": "viewer"})
    (sellers,) = audit_events("user.sellers_changed")
    assert sellers.details == {"old": [one.id], "new": [two.id]}

    client.post(f"/admin/users/{target.id}", data={"role": "viewer", "seller_ids": [str(two.id)]})
    assert len(audit_events("user.role_changed")) == len(audit_events("user.sellers_changed")) == 1  # no-op


def test_assignment_ignores_unknown_and_malformed_seller_ids(client, admin, make_user, make_seller, db):
    one = make_seller("One")
    target = make_user("m@example.com")
    response = client.post(f"/admin/users/{target.id}",
                           data={"role": "marketer", "seller_ids": [str(one.id), "999999", "abc", "-1", "\u00b2",
                                                                     "99999999999999999999999"]})
    assert response.status_code == 302
    assert [s.name for s in _user(db, "m@example.com").sellers] == ["One"]


def test_invalid_role_is_400_and_nothing_changes(client, admin, make_user, db):
    target = make_user("m@example.com")
    response = client.post(f"/admin/users/{target.id}", data={"role": "owner"})
    assert response.status_code == 400
    assert "Choose a valid role." in response.get_data(as_text=True)
    assert _user(db, "m@example.com").role == "marketer"


def test_admin_cannot_demote_or_deactivate_themself(client, admin, db, audit_events):
    demote = client.post(f"/admin/users/{admin.id}", data={"role": "viewer"})
    assert demote.status_code == 400 and "cannot remove your own admin role" in demote.get_data(as_text=True)
    deactivate = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert deactivate.status_code == 400 and "cannot deactivate yourself" in deactivate.get_data(as_text=True)
    me = _user(db, "admin@example.com")
    assert (me.role, me.active) == ("admin", True)
    assert client.get("/admin/users").status_code == 200
    assert audit_events("user.role_changed") == audit_events("user.deactivated") == []


def test_deactivation_ends_sessions_and_is_audited(app, client, admin, make_user, db, audit_events):
    target = make_user("m@example.com")
    theirs = app.test_client()
    theirs.post("/login", data={"email": "m@example.com", "password": PASSWORD})
    assert theirs.get("/").status_code == 200
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 302
    assert theirs.get("/").status_code == 302
    assert theirs.post("/login", data={"email": "m@example.com", "password": PASSWORD}).status_code == 401
    assert "deactivated" in client.get("/admin/users").get_data(as_text=True)
    assert client.post(f"/admin/users/{target.id}/reset-link").status_code == 302
    assert len(audit_events("user.deactivated")) == 1 and audit_events("user.reset_link_issued") == []

    assert client.post(f"/admin/users/{target.id}/active", data={"active": "1"}).status_code == 302
    assert theirs.post("/login", data={"email": "m@example.com", "password": PASSWORD}).status_code == 302
    assert len(audit_events("user.activated")) == 1


def test_unknown_user_is_404(client, admin):
    for path in ("/admin/users/999999", "/admin/users/abc", "/admin/users/-1", "/admin/users/99999999999999999999"):
        assert client.get(path).status_code == 404, path
        assert client.post(path, data={"role": "viewer"}).status_code == 404, path
        assert client.post(path + "/active", data={"active": "0"}).status_code == 404, path
        assert client.post(path + "/reset-link").status_code == 404, path


def test_audit_page_lists_logins_and_filters_by_action(client, admin, make_user, make_seller):
    make_seller("Audited Seller")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "<code>login</code>" in page and "<code>seller.created</code>" in page
    assert "admin@example.com" in page
    filtered = client.get("/admin/audit?action=login").get_data(as_text=True)
    assert "<code>login</code>" in filtered and "seller.created" not in filtered
    nothing = client.get("/admin/audit?action=nothing.like.this")
    assert nothing.status_code == 200 and "No events matching" in nothing.get_data(as_text=True)


def test_audit_page_numbers_never_fail(client, admin, db):
    from marketing import audit

    for i in range(60):
        audit.record("test.event", target_id=i)
    db.session.commit()
    for page, shown in [("abc", 1), ("-3", 1), ("0", 1), ("2", 2), ("99999", 2), ("99999999999999999999999", 2)]:
        response = client.get(f"/admin/audit?page={page}")
        assert response.status_code == 200, page
        assert f"Page {shown} of 2" in response.get_data(as_text=True), page


def test_audit_page_is_paged(client, admin, db):
    from marketing import audit

    for i in range(60):
        audit.record("test.event", target_id=i)
    db.session.commit()
    first = client.get("/admin/audit?action=test.").get_data(as_text=True)
    assert "Page 1 of 2 (60 events)" in first and "test.event" in first
    second = client.get("/admin/audit?action=test.&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and second.count("<code>test.event</code>") == 10


# -- app settings ------------------------------------------------------------------------------------


def _settings_form(**values):
    form = {"token_expiry_warning_days": "30", "target_acos": "30", "ads_client_secret_rotated_on": "",
            "sp_client_secret_rotated_on": ""}
    form.update(values)
    return form


SETTING_MISTAKES = [
    ("target_acos", "lots", "enter a number"),
    ("target_acos", "-5", "must be at least"),
    ("target_acos", "100.5", "must be at most 100"),
    ("target_acos", "NaN", "enter a number"),
    ("target_acos", "", "enter a number"),
    ("token_expiry_warning_days", "7.5", "whole number"),
    ("token_expiry_warning_days", "1e9", "enter a number"),  # no exponents (issue 16)
    ("token_expiry_warning_days", "1e999999999", "enter a number"),
    ("token_expiry_warning_days", "1_0", "enter a number"),
    ("token_expiry_warning_days", "３０", "enter a number"),
    ("target_acos", "12,5", "use a dot"),
    ("token_expiry_warning_days", "181", "must be at most 180"),
    ("ads_client_secret_rotated_on", "yesterday", "YYYY-MM-DD"),
]


def test_bad_setting_is_400_with_message_and_nothing_is_saved(client, admin, db):
    for field, value, message in SETTING_MISTAKES:
        # another field carries a valid change: it must not be saved either
        form = _settings_form(**{"token_expiry_warning_days": "45", field: value})
        response = client.post("/admin/settings", data=form)
        assert response.status_code == 400, (field, value)
        text = response.get_data(as_text=True)
        assert message in text, (field, value)
        assert f'value="{value}"' in text  # the form shows what was typed
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SettingValue)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "setting.changed")) == 0


def test_valid_setting_change_is_saved_and_audited(client, admin, audit_events):
    from marketing import settings_registry

    response = client.post("/admin/settings", data=_settings_form(target_acos="25.5%",
                                                                   ads_client_secret_rotated_on="2025-01-31"))
    assert response.status_code == 302
    assert settings_registry.get("target_acos") == settings_registry.Decimal("25.5")
    assert str(settings_registry.get("ads_client_secret_rotated_on")) == "2025-01-31"
    changes = {e.target_id: e.details for e in audit_events("setting.changed")}
    assert changes == {
        "target_acos": {"old": "30", "new": "25.5"},
        "ads_client_secret_rotated_on": {"old": "", "new": "2025-01-31"},
    }
    assert all(e.actor_id == admin.id for e in audit_events("setting.changed"))
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="25.5"' in page and 'value="2025-01-31"' in page


def test_yes_no_setting_is_a_checkbox(client, admin, audit_events):
    """Ticked, the form sends its hidden "no" then "yes"; unticked only the "no"."""
    from marketing import settings_registry

    page = client.get("/admin/settings").get_data(as_text=True)
    assert re.search(r'<input type="hidden" name="writes_paused" value="no">\s*'
                     r'<input type="checkbox" name="writes_paused" value="yes" >', page)
    assert client.post("/admin/settings", data=_settings_form(writes_paused=["no", "yes"])).status_code == 302
    assert settings_registry.get("writes_paused") is True
    assert re.search(r'name="writes_paused" value="yes" checked', client.get("/admin/settings").get_data(as_text=True))
    assert client.post("/admin/settings", data=_settings_form(writes_paused="no")).status_code == 302
    assert settings_registry.get("writes_paused") is False
    assert [e.details for e in audit_events("setting.changed")] == [{"old": "no", "new": "yes"},
                                                                     {"old": "yes", "new": "no"}]


# -- only admins ---------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("get", "/admin/users"), ("post", "/admin/users"),
    ("get", "/admin/users/{uid}"), ("post", "/admin/users/{uid}"),
    ("post", "/admin/users/{uid}/active"), ("post", "/admin/users/{uid}/reset-link"),
    ("get", "/admin/audit"), ("get", "/admin/settings"), ("post", "/admin/settings"),
    ("get", "/admin/jobs"), ("post", "/admin/jobs/default/some-job/retry"),
    ("get", "/sellers/new"), ("post", "/sellers/new"),
]


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_other_roles_get_403_on_every_admin_route(client, make_user, login, db, role):
    other = make_user("other@example.com", "viewer")
    make_user("u@example.com", role)
    login("u@example.com")
    form = {"email": "sneaky@example.com", "role": "admin", "active": "0", "target_acos": "99", "name": "X",
            "region": "NA"}
    for method, path in ADMIN_ROUTES:
        response = getattr(client, method)(path.format(uid=other.id), data=form if method == "post" else None)
        assert response.status_code == 403, (method, path)
    me = _user(db, "u@example.com")
    assert me.role == role and _user(db, "sneaky@example.com") is None
    assert _user(db, "other@example.com").active
    assert db.session.scalar(select(func.count()).select_from(SettingValue)) == 0


def test_admin_json_requests_get_json_errors(client, make_user, login):
    make_user("v@example.com", "viewer")
    login("v@example.com")
    response = client.get("/admin/users", headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.json == {"error": "Your role does not allow this."}
