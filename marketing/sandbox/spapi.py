"""Selling Partner API: Reports 2021-06-30 and FBA Inventory v1 for the sandbox's sellers.

Every response carries `x-amzn-RequestId`; errors use SP-API's `{"errors": [{code, message, details}]}`.
Calls spend Amazon's per-operation rate limits once they are switched on (`faults.RateLimits`). Reports go
IN_QUEUE → IN_PROGRESS → DONE after `report_delay` seconds of Amazon's clock; a promotion or coupon report
whose window holds nothing ends CANCELLED, as Amazon does when there is no data. Documents are gzip
JSON behind a pre-signed URL valid for 5 minutes.
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from datetime import date, datetime, timedelta

import numpy as np
from flask import Blueprint, Response, jsonify, request

from . import faults, spdocs
from .accounts import Profile, Seller, derive
from .faults import RateLimits
from .reporting import held_until, iso
from .state import Sandbox, current

blueprint = Blueprint("spapi", __name__)
REPORT_TYPES = ("GET_SALES_AND_TRAFFIC_REPORT", "GET_PROMOTION_PERFORMANCE_REPORT", "GET_COUPON_PERFORMANCE_REPORT")
REQUIRED_OPTIONS = {
    "GET_PROMOTION_PERFORMANCE_REPORT": ("promotionStartDateFrom", "promotionStartDateTo"),
    "GET_COUPON_PERFORMANCE_REPORT": ("couponStartDateFrom", "couponStartDateTo"),
    "GET_SALES_AND_TRAFFIC_REPORT": (),
}
BUCKET = {"NA": "tortuga-prod-na", "EU": "tortuga-prod-eu", "FE": "tortuga-prod-fe"}
S3_REGION = {"NA": "us-east-1", "EU": "eu-west-1", "FE": "us-west-2"}
DOC_TTL = 300
PAGE = 50


def fail(status: int, code: str, message: str, details: str | None = None) -> Response:
    err = {"code": code, "message": message}
    if details:
        err["details"] = details
    resp = jsonify({"errors": [err]})
    resp.status_code = status
    return resp


@blueprint.after_request
def _request_id(resp: Response) -> Response:
    resp.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
    return resp


def _seller(operation: str) -> Seller | Response:
    """The seller behind the access token, or Amazon's 403; then the operation's rate limit for this app and
    seller, or Amazon's 429 (no Retry-After, no rate header)."""
    sb = current()
    token = request.headers.get("x-amz-access-token", "")
    grant, problem = sb.tokens.check_access(token, "sp")
    if grant is None:
        details = {
            "missing": "Access token is missing in the request header.",
            "invalid": "The access token you provided is revoked, malformed or invalid.",
            "expired": "The access token you provided has expired.",
        }[problem]
        resp = fail(403, "Unauthorized", "Access to requested resource is denied.", details)
        resp.headers["x-amzn-ErrorType"] = "AccessDeniedException"
        return resp
    seller = sb.accounts.sellers[grant.seller]
    key = ("sp", sb.accounts.sp.client_id, seller.index, seller.region, operation)
    if sb.faults.limits.take(key, RateLimits.SP[operation]):
        return sb.faults.answered(faults.error_response(request.path, 429))
    return seller


def _limited(resp: Response, operation: str) -> Response:
    resp.headers["x-amzn-RateLimit-Limit"] = f"{RateLimits.SP[operation][0]:.4f}".rstrip("0").rstrip(".")
    return resp


def _parse_time(value: object, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 date-time") from None
    return parsed


def _marketplace(seller: Seller, marketplace_id: str) -> Profile | None:
    return next((p for p in seller.seller_marketplaces if p.marketplace_id == marketplace_id), None)


@blueprint.post("/reports/2021-06-30/reports")
def create_report():
    sb = current()
    seller = _seller("createReport")
    if isinstance(seller, Response):
        return seller
    body = request.get_json(silent=True)
    if isinstance(body, dict) and sb.faults.role_denied(request.path, str(body.get("reportType"))):
        return _role_denied()
    try:
        spec = _validate(sb, seller, body)
    except ValueError as exc:
        return _limited(fail(400, "InvalidInput", str(exc)), "createReport")
    report_id = str(50_000_000_000 + int.from_bytes(derive(sb.seed, "sp-report", uuid.uuid4().hex)[:4], "big"))
    report = {
        **spec,
        "reportId": report_id,
        "seller": seller.index,
        "created": sb.now(),
        "done": threading.Event(),
        "documentId": None,
        "cancelled": False,
        "finished": None,
    }
    report["flags"], report["held_until"] = held_until(sb.faults.report_faults(request.path), report["created"])
    with sb.lock:
        sb.sp_reports[report_id] = report
    if not report["flags"] & {"report_fail", "report_pending"}:
        sb.workers.submit(_generate, sb, report)
    resp = jsonify({"reportId": report_id})
    resp.status_code = 202
    return _limited(resp, "createReport")


def _role_denied() -> Response:
    """What Amazon answers when the app lacks a report type's role (e.g. Brand Analytics): the body of a bad
    token, with empty details — a client can tell them apart only by retrying with a fresh token."""
    resp = jsonify({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                "details": ""}]})  # fmt: skip
    resp.status_code = 403
    resp.headers["x-amzn-ErrorType"] = "AccessDeniedException"
    return resp


def _validate(sb: Sandbox, seller: Seller, body: object) -> dict:
    if not isinstance(body, dict):
        raise ValueError("Request body must be a JSON object")
    rtype = body.get("reportType")
    if rtype not in REPORT_TYPES:
        raise ValueError(f"Invalid reportType: {rtype}")
    mps = body.get("marketplaceIds")
    if not isinstance(mps, list) or not 1 <= len(mps) <= 25 or not all(isinstance(m, str) for m in mps):
        raise ValueError("marketplaceIds must be a list of 1 to 25 marketplace ids")
    for m in mps:
        if _marketplace(seller, m) is None:
            raise ValueError(f"Invalid marketplaceId {m} for this seller")
    if rtype == "GET_SALES_AND_TRAFFIC_REPORT" and len(mps) != 1:
        raise ValueError("GET_SALES_AND_TRAFFIC_REPORT requires exactly one marketplaceId")
    options = body.get("reportOptions") or {}
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise ValueError("reportOptions must be an object of strings")
    for key in REQUIRED_OPTIONS[rtype]:
        if key not in options:
            raise ValueError(f"reportOptions.{key} is required for {rtype}")
        _parse_time(options[key], key)
    if options.get("dateGranularity", "DAY") not in ("DAY", "WEEK", "MONTH"):
        raise ValueError("dateGranularity must be DAY, WEEK or MONTH")
    if options.get("asinGranularity", "PARENT") not in ("PARENT", "CHILD", "SKU"):
        raise ValueError("asinGranularity must be PARENT, CHILD or SKU")
    today = sb.market.today
    start = _parse_time(body["dataStartTime"], "dataStartTime").date() if "dataStartTime" in body else today
    end = _parse_time(body["dataEndTime"], "dataEndTime").date() if "dataEndTime" in body else today
    if end < start:
        raise ValueError("dataEndTime must not be before dataStartTime")
    if start > today + timedelta(days=1):
        raise ValueError("dataStartTime must not be in the future")
    return {
        "reportType": rtype,
        "marketplaceIds": mps,
        "options": options,
        "start": start,
        "end": end,
        "dataStartTime": body.get("dataStartTime"),
        "dataEndTime": body.get("dataEndTime"),
        "today": sb.market.today_ordinal,
    }


def _generate(sb: Sandbox, report: dict) -> None:
    try:
        seller = sb.accounts.sellers[report["seller"]]
        doc = _document(sb, seller, report)
        if doc is None:
            report["cancelled"] = True
            return
        data = json.dumps(faults.noisy(doc) if "float_noise" in report["flags"] else doc).encode()
        if "invalid_json" in report["flags"]:
            data = data[: max(1, len(data) // 2)] + b',"'
        blob = gzip.compress(data, compresslevel=6, mtime=0)
        if "truncated_gzip" in report["flags"]:
            blob = blob[: len(blob) // 2]
        doc_id = f"amzn1.spdoc.1.4.{seller.region.lower()}.{uuid.uuid4()}.T{uuid.uuid4().hex[:12].upper()}.{len(blob)}"
        key = uuid.uuid4().hex
        sb.blobs.put(BUCKET[seller.region], key, blob)
        with sb.lock:
            sb.sp_documents[doc_id] = {"seller": seller.index, "bucket": BUCKET[seller.region], "key": key}
        report["documentId"] = doc_id
    except Exception:  # any bug becomes a FATAL report, as on Amazon
        report["fatal"] = True
    finally:
        report["finished"] = sb.now()
        report["done"].set()


def _document(sb: Sandbox, seller: Seller, report: dict) -> dict | None:
    opts = report["options"]
    spec = {"reportType": report["reportType"], "reportOptions": opts, "marketplaceIds": report["marketplaceIds"]}
    books = [sb.market.book(_marketplace(seller, m).profile_id) for m in report["marketplaceIds"]]
    if report["reportType"] == "GET_SALES_AND_TRAFFIC_REPORT":
        start, end = report["start"], report["end"]
        if start < date.fromordinal(report["today"]) - timedelta(days=730):
            return None
        spec.update(dataStartTime=start.isoformat(), dataEndTime=end.isoformat())
        return spdocs.sales_and_traffic(books[0], start, end, opts, spec)
    if report["reportType"] == "GET_PROMOTION_PERFORMANCE_REPORT":
        lo = _parse_time(opts["promotionStartDateFrom"], "").date().toordinal()
        hi = _parse_time(opts["promotionStartDateTo"], "").date().toordinal()
        items = [p for b in books for p in spdocs.promotions(b, lo, hi, spec, seller.selling_partner_id)]
        return {"reportSpecification": spec, "promotions": items} if items else None
    lo = _parse_time(opts["couponStartDateFrom"], "").date().toordinal()
    hi = _parse_time(opts["couponStartDateTo"], "").date().toordinal()
    items = [c for b in books for c in spdocs.coupons(b, lo, hi, seller.selling_partner_id)]
    return {"reportSpecification": spec, "coupons": items} if items else None


def _status(sb: Sandbox, report: dict) -> str:
    elapsed = sb.now() - report["held_until"]
    if "report_pending" in report["flags"] or elapsed < sb.report_delay / 2:
        return "IN_QUEUE"
    if "report_fail" in report["flags"]:
        return "IN_PROGRESS" if elapsed < sb.report_delay else "FATAL"
    if elapsed < sb.report_delay or not report["done"].is_set():
        return "IN_PROGRESS"
    if report.get("fatal"):
        return "FATAL"
    return "CANCELLED" if report["cancelled"] else "DONE"


@blueprint.get("/reports/2021-06-30/reports/<report_id>")
def get_report(report_id: str):
    sb = current()
    seller = _seller("getReport")
    if isinstance(seller, Response):
        return seller
    report = sb.sp_reports.get(report_id)
    if report is None or report["seller"] != seller.index:
        return _limited(fail(404, "NotFound", f"Report {report_id} not found"), "getReport")
    status = _status(sb, report)
    view = {
        "reportId": report_id,
        "reportType": report["reportType"],
        "marketplaceIds": report["marketplaceIds"],
        "createdTime": iso(report["created"]),
        "processingStatus": status,
    }
    for key in ("dataStartTime", "dataEndTime"):
        if report[key]:
            view[key] = report[key]
    if status != "IN_QUEUE":
        view["processingStartTime"] = iso(report["held_until"] + sb.report_delay / 2)
    if status in ("DONE", "CANCELLED", "FATAL"):
        view["processingEndTime"] = iso(max(report["finished"] or 0, report["held_until"] + sb.report_delay))
    if status == "DONE":
        view["reportDocumentId"] = report["documentId"]
    return _limited(jsonify(view), "getReport")


@blueprint.get("/reports/2021-06-30/documents/<path:document_id>")
def get_document(document_id: str):
    sb = current()
    seller = _seller("getReportDocument")
    if isinstance(seller, Response):
        return seller
    doc = sb.sp_documents.get(document_id)
    if doc is None or doc["seller"] != seller.index:
        return _limited(fail(404, "NotFound", f"Report document {document_id} not found"), "getReportDocument")
    blob = sb.blobs.get(doc["bucket"], doc["key"])
    url, _ = sb.blobs.presign(request.host_url, blob, DOC_TTL, S3_REGION[seller.region])
    body = {"reportDocumentId": document_id, "url": url, "compressionAlgorithm": "GZIP"}
    return _limited(jsonify(body), "getReportDocument")


@blueprint.get("/fba/inventory/v1/summaries")
def inventory():
    sb = current()
    seller = _seller("inventory")
    if isinstance(seller, Response):
        return seller
    args = request.args
    mps = [m for v in args.getlist("marketplaceIds") for m in v.split(",") if m]
    problem = ""
    if args.get("granularityType") != "Marketplace":
        problem = "granularityType must be Marketplace"
    elif not args.get("granularityId"):
        problem = "granularityId is required"
    elif mps != [args["granularityId"]]:
        problem = "marketplaceIds must hold exactly the granularityId marketplace"
    elif _marketplace(seller, mps[0]) is None:
        problem = f"Invalid marketplaceId {mps[0]} for this seller"
    if problem:
        return _limited(fail(400, "InvalidInput", problem), "inventory")
    book = sb.market.book(_marketplace(seller, mps[0]).profile_id)
    c = book.cat
    wanted = [s for v in args.getlist("sellerSkus") for s in v.split(",") if s] or (
        [args["sellerSku"]] if args.get("sellerSku") else None
    )
    products = [p for p in range(len(c.sku)) if wanted is None or c.sku[p] in wanted]
    try:
        offset = int(args.get("nextToken") or 0)
    except ValueError:
        return _limited(fail(400, "InvalidInput", "Invalid nextToken"), "inventory")
    page = products[offset : offset + PAGE]
    today = sb.market.today_ordinal
    stock = book.retail.stock(today)
    inbound = book.retail.inbound(today)
    details = args.get("details", "false").lower() == "true"
    summaries = [_summary(sb, book, p, int(stock[p]), int(inbound[p]), details, sb.market.today) for p in page]
    body: dict = {
        "payload": {
            "granularity": {"granularityType": "Marketplace", "granularityId": mps[0]},
            "inventorySummaries": summaries,
        }
    }
    if offset + PAGE < len(products):
        body["pagination"] = {"nextToken": str(offset + PAGE)}
    return _limited(jsonify(body), "inventory")


def inventory_summaries(sb: Sandbox, book, day: date) -> list[dict]:
    """Every product's FBA inventory summary (with details) as Amazon listed it on `day`."""
    d = day.toordinal()
    stock, inbound = book.retail.stock(d), book.retail.inbound(d)
    return [_summary(sb, book, p, int(stock[p]), int(inbound[p]), True, day) for p in range(len(book.cat.sku))]


def _summary(sb: Sandbox, book, p: int, fulfillable: int, inbound: int, details: bool, day: date) -> dict:
    c = book.cat
    reserved = int(np.ceil(fulfillable * 0.03))
    unfulfillable = int(derive(sb.seed, "unfulfillable", c.asin[p])[0] % 4)
    item = {
        "asin": c.asin[p],
        "fnSku": "X00" + derive(sb.seed, "fnsku", c.asin[p]).hex()[:7].upper(),
        "sellerSku": c.sku[p],
        "condition": "NewItem",
        "lastUpdatedTime": f"{day.isoformat()}T06:00:00Z",
        "productName": c.product_name[p],
        "totalQuantity": fulfillable + reserved + inbound + unfulfillable,
    }
    if details:
        item["inventoryDetails"] = {
            "fulfillableQuantity": fulfillable,
            "inboundWorkingQuantity": 0,
            "inboundShippedQuantity": inbound,
            "inboundReceivingQuantity": 0,
            "reservedQuantity": {
                "totalReservedQuantity": reserved,
                "pendingCustomerOrderQuantity": reserved,
                "pendingTransshipmentQuantity": 0,
                "fcProcessingQuantity": 0,
            },
            "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": unfulfillable,
                "customerDamagedQuantity": unfulfillable,
                "warehouseDamagedQuantity": 0,
                "distributorDamagedQuantity": 0,
                "carrierDamagedQuantity": 0,
                "defectiveQuantity": 0,
                "expiredQuantity": 0,
            },
        }
    return item
