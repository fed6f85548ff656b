"""Amazon Ads reporting v3: create, poll and (through the S3 look-alike) download reports.

A report snapshots the market day it was requested on, then moves PENDING → PROCESSING → COMPLETED
as Amazon's clock (`Sandbox.now`) passes `report_delay` seconds — after a `report_pending` fault's hold, if one
fired — and its file is built in a background thread.
An identical request made while the first is still pending is refused with 425 naming the original,
as Amazon does. Completed reports carry a fresh pre-signed `url` (valid 3600 s) on every poll.
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from datetime import UTC, datetime

from flask import Blueprint, Response, request

from . import faults, report_columns, report_rows
from .adsauth import authenticate, error, media_type_ok
from .state import Sandbox, current

blueprint = Blueprint("reporting", __name__)
CREATE_TYPE = "application/vnd.createasyncreportrequest.v3+json"
S3_REGION = {"NA": "us-east-1", "EU": "eu-west-1", "FE": "us-west-2"}
URL_TTL = 3600


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def _reply(payload: dict, media: str, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype=media)


@blueprint.post("/reporting/reports")
def create():
    sb = current()
    auth = authenticate("reporting")
    if isinstance(auth, Response):
        return auth
    _, profile = auth
    content_type = request.headers.get("Content-Type")
    if not (media_type_ok(content_type, CREATE_TYPE) or media_type_ok(content_type, "application/json")):
        return error("reporting", 415, "415", f"Content-Type must be {CREATE_TYPE}")
    try:
        body = json.loads(request.get_data() or b"null")
        req = report_columns.validate(body, sb.market.today)
    except ValueError as exc:
        detail = str(exc) if isinstance(exc, report_columns.ReportRequestError) else "Malformed JSON body"
        return error("reporting", 400, "400", detail)
    fingerprint = json.dumps([profile.profile_id, req], sort_keys=True)
    with sb.lock:
        for other in sb.ads_reports.values():
            if other["fingerprint"] == fingerprint and _status(sb, other) in ("PENDING", "PROCESSING"):
                return error("reporting", 425, "425", f"The Request is a duplicate of : {other['reportId']}")
        fired = sb.faults.report_faults(request.path)
        created = sb.now()
        flags, begins = held_until(fired, created)
        report = {
            "reportId": str(uuid.uuid4()),
            "profileId": profile.profile_id,
            "request": req,
            "fingerprint": fingerprint,
            "created": created,
            "held_until": begins,
            "today": sb.market.today_ordinal,
            "flags": flags,
            "row_faults": [f for f in fired if f.kind in faults.ROW_KINDS],
            "done": threading.Event(),
            "blob": None,
            "failure": None,
            "generatedAt": None,
        }
        sb.ads_reports[report["reportId"]] = report
    if not report["flags"] & {"report_fail", "report_pending"}:
        sb.workers.submit(_generate, sb, report)
    return _reply(_view(sb, report), "application/vnd.createasyncreportresponse.v3+json")


def _generate(sb: Sandbox, report: dict) -> None:
    try:
        book = sb.market.book(report["profileId"])
        data = report_rows.build(book, report["request"], report["today"], report["today"])
        if report["row_faults"]:
            data = faults.alter_rows(data, report["row_faults"])
        if "invalid_json" in report["flags"]:
            data = data[: max(1, len(data) // 2)] + b',"'
        blob = gzip.compress(data, compresslevel=1, mtime=0)
        if "truncated_gzip" in report["flags"]:
            blob = blob[: len(blob) // 2]
        region = S3_REGION[book.profile.region]
        key = f"{uuid.uuid5(uuid.NAMESPACE_OID, str(report['profileId']))}/report-{report['reportId']}.json.gz"
        report["blob"] = sb.blobs.put(f"offline-report-storage-{region}-prod", key, blob)
        report["generatedAt"] = sb.now()
    except Exception as exc:  # any bug becomes a FAILED report, as on Amazon
        report["failure"] = f"Report generation failed due to an internal error. Please retry ({type(exc).__name__})"
    finally:
        report["done"].set()


def held_until(fired: list[faults.Fault], created: float) -> tuple[set[str], float]:
    """A new report's fault kinds and when it starts processing: a `report_pending` fault with `hold_hours`
    holds it that long (the longest, if several fired), one without holds it forever (kind kept)."""
    holds = [f.hold_hours for f in fired if f.kind == "report_pending"]
    flags = {f.kind for f in fired}
    if holds and None not in holds:
        flags.discard("report_pending")
        return flags, created + max(holds) * faults.HOUR
    return flags, created


def _status(sb: Sandbox, report: dict) -> str:
    elapsed = sb.now() - report["held_until"]
    if "report_pending" in report["flags"] or elapsed < sb.report_delay / 2:
        return "PENDING"
    if "report_fail" in report["flags"]:
        return "PROCESSING" if elapsed < sb.report_delay else "FAILED"
    if elapsed < sb.report_delay or not report["done"].is_set():
        return "PROCESSING"
    return "FAILED" if report["failure"] else "COMPLETED"


def _view(sb: Sandbox, report: dict) -> dict:
    req = report["request"]
    status = _status(sb, report)
    view = {
        "reportId": report["reportId"],
        "name": req["name"],
        "status": status,
        "configuration": req["configuration"],
        "startDate": req["startDate"],
        "endDate": req["endDate"],
        "createdAt": iso(report["created"]),
        "updatedAt": iso(max(report["created"], report["generatedAt"] or 0)),
        "generatedAt": None,
        "fileSize": None,
        "url": None,
        "urlExpiresAt": None,
        "failureReason": None,
    }
    if status == "COMPLETED":
        region = S3_REGION[sb.accounts.profiles[report["profileId"]].region]
        url, expires = sb.blobs.presign(request.host_url, report["blob"], URL_TTL, region)
        view.update(
            generatedAt=iso(report["generatedAt"]),
            fileSize=len(report["blob"].data),
            url=url,
            urlExpiresAt=iso(expires),
        )
    elif status == "FAILED":
        view["failureReason"] = report["failure"] or "Report generation failed due to an internal error. Please retry"
    return view


@blueprint.get("/reporting/reports/<report_id>")
def get(report_id: str):
    sb = current()
    auth = authenticate("reporting")
    if isinstance(auth, Response):
        return auth
    _, profile = auth
    report = sb.ads_reports.get(report_id)
    if report is None or report["profileId"] != profile.profile_id:
        return error("reporting", 404, "404", f"Report {report_id} not found")
    return _reply(_view(sb, report), "application/vnd.getasyncreportresponse.v3+json")
