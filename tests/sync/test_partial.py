"""What Amazon withholds or delays without sinking a run: a role refusal on Sales & Traffic is a notice, and a
throttled report shows since when it waits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketing.extensions import db
from marketing.models import Connection, SalesTrafficDaily, Seller, SpTargetDaily, SyncReport, SyncRun
from marketing.sync import plan, runs
from tests.sync.conftest import drain, sync, work

pytestmark = pytest.mark.sqlite


def test_a_role_refused_on_sales_and_traffic_is_a_notice_not_a_failure(app, sbx, seller):
    seller_id = seller.id
    sbx.admin.fault("role_denied", path_prefix="/reports")
    result = sync(seller, days=1)
    assert result["status"] == "succeeded", result["error"]
    assert "lacks the Brand Analytics role" in result["notice"] and result["error"] is None
    assert db.session.scalar(select(func.count()).select_from(SpTargetDaily)) > 0  # the Ads data is all in
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficDaily)) == 0
    refused = db.session.scalars(select(SyncReport.status).where(SyncReport.report_type == plan.SALES_TRAFFIC)).all()
    assert refused and set(refused) == {"refused"}
    others = db.session.scalars(select(SyncReport.status).where(SyncReport.source == "sp",
                                                                SyncReport.report_type != plan.SALES_TRAFFIC)).all()
    assert others and set(others) == {"ingested"}  # coupons, deals and inventory came in
    sp = db.session.scalar(select(Connection).where(Connection.seller_id == seller_id, Connection.api == "sp"))
    assert sp.revoked_at is None and not sp.error_transient  # not a token problem
    sbx.admin.clear_faults()
    again = sync(db.session.get(Seller, seller_id), days=1)  # the role granted: Sales & Traffic comes in
    assert again["status"] == "succeeded" and again["notice"] is None
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficDaily)) > 0


def test_a_throttled_report_shows_since_when_it_waits_and_gets_in(app, sbx, seller):
    app.config["SYNC_RETRY_SECONDS"] = 0.5  # the throttling outlasts a few looks at the run
    sbx.admin.fault("throttle", path_prefix="/reporting", method="POST", count=12)
    run, _ = runs.start_run(seller.id, "manual", days=1)
    run_id, seen = run.id, []

    def waiting():
        db.session.expire_all()
        seen.append(runs.progress(db.session.get(SyncRun, run_id))["waiting"])
        return seen[-1] is not None

    work(until=waiting)
    assert seen[-1].startswith("waiting for Amazon (throttled) since ")
    result = drain(run_id)
    assert result["status"] == "succeeded", result["error"]
    assert result["waiting"] is None
    db.session.expire_all()
    assert all(r.waiting_since is None for r in db.session.get(SyncRun, run_id).reports)
