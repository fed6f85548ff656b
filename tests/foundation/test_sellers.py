"""Creating and deleting sellers: admin only, validated, escaped, audited, and deletion takes its data along."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from marketing.models import Seller, SettingValue, user_sellers


def _count(db, table):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(table))


def test_admin_creates_a_seller(client, admin, db, audit_events):
    assert client.get("/sellers/new").status_code == 200
    response = client.post("/sellers/new", data={"name": "  Acme   Outdoor ", "region": "eu"})
    assert response.status_code == 302
    seller = db.session.scalar(select(Seller))
    assert (seller.name, seller.region) == ("Acme Outdoor", "EU")
    assert response.location == f"/sellers/{seller.id}"
    assert b"Acme Outdoor" in client.get("/").data
    (event,) = audit_events("seller.created")
    assert (event.actor_id, event.seller_id, event.details) == (admin.id, seller.id,
                                                                {"name": "Acme Outdoor", "region": "EU"})


@pytest.mark.parametrize(("form", "message"), [
    ({"name": "acme OUTDOOR", "region": "NA"}, "already exists"),
    ({"name": "New One", "region": "XX"}, "Region must be one of"),
    ({"name": "New One", "region": ""}, "Region must be one of"),
    ({"name": "   ", "region": "NA"}, "Give the seller a name"),
])
def test_seller_mistakes_are_400_with_a_message(client, admin, make_seller, db, form, message):
    make_seller("Acme Outdoor")
    response = client.post("/sellers/new", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(db, Seller) == 1


def test_seller_name_is_escaped_everywhere(client, admin, db):
    name = '<script>alert("x")</script>'
    assert client.post("/sellers/new", data={"name": name, "region": "NA"}).status_code == 302
    seller = db.session.scalar(select(Seller))
    for path in ("/", f"/sellers/{seller.id}", f"/sellers/{seller.id}/delete", "/admin/audit"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page, path
        assert "&lt;script&gt;alert" in page, path


def test_delete_needs_the_exact_name(client, admin, make_seller, db):
    seller = make_seller("Acme Outdoor")
    page = client.get(f"/sellers/{seller.id}/delete")
    assert page.status_code == 200 and b'name="confirm_name"' in page.data
    for typed in ("", "acme outdoor", "Acme", "Acme Outdoor!"):
        response = client.post(f"/sellers/{seller.id}/delete", data={"confirm_name": typed})
        assert response.status_code == 400, typed
        assert b"Type the seller" in response.data
    assert _count(db, Seller) == 1


def test_delete_removes_assignments_and_settings_and_is_audited(client, admin, make_seller, make_user, db,
                                                                 audit_events):
    from marketing import settings_registry

    doomed, kept = make_seller("Doomed Co"), make_seller("Kept Co")
    marketer = make_user("m@example.com", sellers=[doomed, kept])
    settings_registry.set_value("target_acos", "20", actor=admin, seller_id=doomed.id)
    settings_registry.set_value("target_acos", "40", actor=admin, seller_id=kept.id)
    db.session.commit()
    doomed_id = doomed.id

    response = client.post(f"/sellers/{doomed_id}/delete", data={"confirm_name": " Doomed Co "})
    assert response.status_code == 302 and response.location == "/"
    assert db.session.get(Seller, doomed_id) is None
    rows = db.session.execute(select(user_sellers.c.seller_id).where(user_sellers.c.user_id == marketer.id)).all()
    assert rows == [(kept.id,)]
    assert db.session.execute(text("SELECT seller_id FROM setting_values")).all() == [(kept.id,)]
    assert settings_registry.get("target_acos", kept.id) == settings_registry.Decimal("40")
    (event,) = audit_events("seller.deleted")
    assert (event.actor_id, event.target_id, event.details) == (admin.id, str(doomed_id), {"name": "Doomed Co"})
    assert client.get(f"/sellers/{doomed_id}").status_code == 404


@pytest.mark.sqlite
def test_deleting_in_the_database_cascades_too(db, make_seller, make_user):
    """The foreign keys themselves cascade (SQLite included), not only the ORM."""
    seller = make_seller("Doomed Co")
    make_user("m@example.com", sellers=[seller])
    db.session.add(SettingValue(key="target_acos", value="20", seller_id=seller.id))
    db.session.commit()
    db.session.execute(text("DELETE FROM sellers"))
    db.session.commit()
    assert _count(db, user_sellers) == 0
    assert _count(db, SettingValue) == 0


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_only_admins_delete(client, make_user, make_seller, login, db, role):
    mine, foreign = make_seller("Mine Co"), make_seller("Foreign Co")
    make_user("u@example.com", role, sellers=[mine])
    login("u@example.com")
    assert client.get(f"/sellers/{mine.id}/delete").status_code == 403
    assert client.post(f"/sellers/{mine.id}/delete", data={"confirm_name": "Mine Co"}).status_code == 403
    assert client.get(f"/sellers/{foreign.id}/delete").status_code == 404
    assert client.post(f"/sellers/{foreign.id}/delete", data={"confirm_name": "Foreign Co"}).status_code == 404
    assert _count(db, Seller) == 2


def test_malformed_and_unknown_seller_ids_are_404(client, admin):
    for path in ("/sellers/999999", "/sellers/0", "/sellers/-1", "/sellers/abc", "/sellers/1.5",
                 "/sellers/99999999999999999999999", "/sellers/99999999999999999999999/delete"):
        assert client.get(path).status_code == 404, path
    assert client.post("/sellers/99999999999999999999999/delete", data={"confirm_name": "x"}).status_code == 404


def test_find_seller_by_id_or_name(make_seller):
    from marketing.sellers import find_seller

    seller = make_seller("Acme Outdoor")
    assert find_seller(str(seller.id)) is seller
    assert find_seller(" acme outdoor ") is seller
    for ref in ("999999", "99999999999999999999999", "\u00b2", "", "Nope"):
        assert find_seller(ref) is None, ref
