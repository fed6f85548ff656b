"""Fixtures for the sync suite: a sandbox (fake Amazon, reports ready at once), an app wired to it with short
sync timings, sellers connected the way the product connects them, and `drain`, which works the queue
(scheduled jobs included) in-process until a run ends.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from marketing import jobs
from marketing.clock import now, set_today
from marketing.jobs.worker import work_until
from marketing.sandbox.testing import running_sandbox
from tests.conftest import sandbox_app

SYNC_CONFIG = {
    "SYNC_POLL_SECONDS": 0.05,
    "SYNC_POLL_CAP_SECONDS": 0.2,
    "SYNC_REPORT_HORIZON_SECONDS": 60.0,
    "SYNC_RETRY_SECONDS": 0.1,
    "SYNC_RETRY_CAP_SECONDS": 0.5,
    "SYNC_CALL_WAIT_SECONDS": 0.3,
    "SYNC_RATE_PER_SECOND": 1000.0,
    "SYNC_RATE_BURST": 1000,
}


@pytest.fixture(scope="session")
def sbx():
    with running_sandbox(seed=5, report_delay=0.0) as handle:
        yield handle


@pytest.fixture
def app(make_app, sbx):
    """Every app here talks to the sandbox, on the sandbox market's business date."""
    with sandbox_app(make_app, sbx, **SYNC_CONFIG) as app:
        set_today(sbx.admin.today())
        yield app
        set_today(None)


def connect(sbx, index: int = 0, *, sp: bool = True, countries: tuple[str, ...] | None = ("US", "UK", "JP")):
    """Create the sandbox's seller `index` and connect it (proven tokens, profiles listed, managed)."""
    from marketing import sellers
    from marketing.connections import service
    from marketing.extensions import db

    info = sbx.sellers[index]
    seller = sellers.create_seller(info.name, info.region)
    db.session.commit()
    service.prove_refresh_token(seller, "ads", info.ads_refresh_token)
    connection = service.store_token(seller, "ads", info.ads_refresh_token, authorized_at=now(), actor=None,
                                     method="cli")
    db.session.commit()
    service.refresh_profiles(connection, manage_new=True)
    if countries is not None:  # one profile keeps most tests quick
        for profile in connection.profiles:
            profile.managed = profile.manageable and profile.country_code in countries
    db.session.commit()
    if sp:
        service.prove_refresh_token(seller, "sp", info.sp_refresh_token)
        service.store_token(seller, "sp", info.sp_refresh_token, authorized_at=now(), actor=None, method="cli")
        seller.selling_partner_id = info.selling_partner_id
        db.session.commit()
    return seller


@pytest.fixture
def seller(app, sbx):
    return connect(sbx, 0)


def work(timeout: float = 60.0, until=None) -> None:
    """Work the sync queue in-process, moving due scheduled jobs in, until `until()` or nothing is left."""
    queue = jobs.queue("sync")

    def done() -> bool:
        return (until is not None and until()) or not (queue.count or queue.scheduled_job_registry.count)

    work_until("sync", done, poll=0.05, timeout=timeout, defer_to_workers=False)


def drain(run_id: int, timeout: float = 60.0) -> dict:
    """Work until the run ends; returns its progress."""
    from marketing.extensions import db
    from marketing.models import SyncRun
    from marketing.models.sync import ACTIVE_RUN
    from marketing.sync import runs

    def ended():
        db.session.expire_all()
        return db.session.get(SyncRun, run_id).status not in ACTIVE_RUN

    work(timeout, until=ended)
    db.session.expire_all()
    return runs.progress(db.session.get(SyncRun, run_id))


def sync(seller, days: int = 3, kind: str = "manual") -> dict:
    """Start a run and work it to its end (the worker's session clean-up detaches `seller`: re-get it)."""
    from marketing.sync import runs

    run, started = runs.start_run(seller.id, kind, days=days)
    assert started
    return drain(run.id)


def sandbox_rows(seller, profile_id: int, report_type: str, start, end) -> list[dict]:
    """The report exactly as the sandbox serves it, fetched outside the sync code (the oracle for totals)."""
    from marketing.amazon.ads import REPORT_COLUMNS, REPORT_GROUP_BY
    from marketing.connections import clients

    with clients.http_client() as http:
        client = clients.ads_client(seller.connection("ads"), http)
        report = client.create_report(profile_id, report_type, start, end, REPORT_COLUMNS[report_type],
                                      REPORT_GROUP_BY[report_type], name="oracle")
        for _ in range(200):
            status = client.get_report(profile_id, report.report_id)
            if status.done:
                break
            time.sleep(0.05)
        status.raise_if_failed()
        return list(client.iter_report_rows(status.url))


def sp_document(seller, report_type: str, marketplace_id: str, start=None, end=None, options=None) -> dict:
    """An SP-API report document exactly as the sandbox serves it, fetched outside the sync code (the oracle);
    {} when Amazon cancels it for having no data."""
    import json  # why: only the SP oracle parses a document here

    from marketing.connections import clients

    with clients.http_client() as http:
        client = clients.sp_client(seller.connection("sp"), http)
        report_id = client.create_report(report_type, [marketplace_id], start, end, options=options)
        for _ in range(400):
            status = client.get_report(report_id)
            if status.done:
                break
            time.sleep(0.02)
        if status.status == "CANCELLED":
            return {}
        document = client.get_report_document(status.document_id)
        return json.loads(b"".join(client.download_document(document.url, document.compression)))


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
