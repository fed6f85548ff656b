"""The seller page's sync panel, "Sync now" with its permission and one-run-at-a-time rule, the JSON
progress endpoint, and `marketing sync`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketing.extensions import db
from marketing.models import Seller, SyncRun
from tests.sync.conftest import connect


@pytest.mark.sqlite
def test_sync_now_starts_one_run_and_a_second_click_shows_it(app, client, seller, marketer):
    page = client.get(f"/sellers/{seller.id}")
    html = page.get_data(as_text=True)
    assert 'id="sync"' in html and "Not synced yet" in html
    assert re.search(r'<script src="/static/js/sync\.js[^"]*" defer></script>', html)
    assert "<script>" not in html  # CSP script-src 'self': no inline script
    first = client.post(f"/sellers/{seller.id}/sync")
    assert first.status_code == 302
    second = client.post(f"/sellers/{seller.id}/sync", follow_redirects=True)
    assert "already running" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 1
    status = client.get(f"/sellers/{seller.id}/sync/status").get_json()["run"]
    # back-fill: structure, 3 windows x 4 SP reports, Sales & Traffic for the range, coupons, deals, inventory
    assert status["active"] and status["status"] == "queued" and status["reports_total"] == 14 + 3
    assert 'data-active="true"' in client.get(f"/sellers/{seller.id}").get_data(as_text=True)


def test_sync_now_answers_json(app, client, seller, marketer):
    answer = client.post(f"/sellers/{seller.id}/sync", headers={"Accept": "application/json"})
    assert answer.status_code == 202 and answer.get_json()["started"] is True
    again = client.post(f"/sellers/{seller.id}/sync", headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.get_json()["run"]["id"] == answer.get_json()["run"]["id"]


def test_viewers_see_progress_but_cannot_sync(app, client, login, seller, make_user):
    make_user("v@example.com", "viewer", sellers=[seller])
    login("v@example.com")
    assert "Sync now" not in client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert client.post(f"/sellers/{seller.id}/sync").status_code == 403
    assert client.get(f"/sellers/{seller.id}/sync/status").get_json() == {"run": None}


def test_other_sellers_are_not_found(app, client, login, sbx, make_user, make_seller):
    other = make_seller("Someone Else")
    make_user("m@example.com", "marketer", sellers=[])
    login("m@example.com")
    assert client.post(f"/sellers/{other.id}/sync").status_code == 404
    assert client.get(f"/sellers/{other.id}/sync/status").status_code == 404


def test_a_seller_without_profiles_cannot_sync(app, client, login, make_seller, make_user):
    seller = make_seller("Unconnected")
    make_user("m@example.com", "marketer", sellers=[seller])
    login("m@example.com")
    page = client.post(f"/sellers/{seller.id}/sync", follow_redirects=True).get_data(as_text=True)
    assert "Cannot sync" in page and "no managed Amazon Ads profile" in page


def test_cli_sync_waits_for_the_run_and_reports_it(app, runner, seller):
    name = seller.name
    result = runner.invoke(["sync", name, "--days", "1", "--wait"])
    assert result.exit_code == 0, result.output
    assert "succeeded: 9 reports" in result.output  # 5 Ads, Sales & Traffic, coupons, deals, inventory
    run = db.session.scalar(select(SyncRun))
    assert run.status == "succeeded" and run.seller_id == db.session.scalar(
        select(Seller.id).where(Seller.name == name))


def test_cli_sync_exit_codes(app, runner, sbx, seller):
    assert runner.invoke(["sync", "Nobody"]).exit_code == 2
    assert runner.invoke(["sync", seller.name, "--days", "0"]).exit_code == 2
    sbx.admin.fault("report_fail", path_prefix="/reporting", count=1)
    partial = runner.invoke(["sync", seller.name, "--days", "1", "--wait"])
    assert partial.exit_code == 1
    assert re.search(r"sync run \d+ partial: 8 stored, 1 failed: Amazon could not generate the sp\w+ report",
                     partial.output), partial.output


@pytest.mark.sqlite
def test_first_connect_starts_a_back_fill(app, client, login, sbx, make_user):
    seller = connect(sbx, 1, sp=False, countries=())
    make_user("m@example.com", "marketer", sellers=[seller])
    login("m@example.com")
    profile = seller.connection("ads").profiles[0]
    client.post(f"/sellers/{seller.id}/connections/ads/profiles", data={"profile_ids": [str(profile.profile_id)]})
    run = db.session.scalar(select(SyncRun))
    assert run.kind == "backfill" and (run.end_date - run.start_date).days + 1 == 93
