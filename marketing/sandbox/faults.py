"""Fault injection: what a product must survive when talking to Amazon.

A fault has a kind, a rate (0–1), an optional path prefix that scopes it and an optional count
(fire at most N times). Request-level kinds answer in the error shape of the API family the path
belongs to (LWA, profiles, SP v3, reporting v3, SP-API, S3):

* ``throttle`` — 429, with ``Retry-After: <retry_after>`` when given (S3 answers 503 SlowDown)
* ``error`` — ``status`` 500 (default) or 503 from the service, 502 or 504 from Amazon's gateways
* ``latency`` — sleep ``seconds`` before answering normally
* ``stall`` — (S3 downloads) send the first half of the file, then pause ``seconds`` before the rest: the
  client is mid-read, e.g. for killing a worker half-way through an ingest

Report-level kinds are decided when a report is created (scope them with "/reporting" or "/reports"):

* ``report_fail`` — Ads: FAILED; SP-API: FATAL
* ``report_pending`` — stays PENDING / IN_QUEUE forever, or for ``hold_hours`` of Amazon time, then proceeds
* ``truncated_gzip`` — the downloaded file is cut in half
* ``invalid_json`` — the file is valid gzip of invalid JSON
* ``extra_column`` — every row carries a column nobody requested, ``field`` (default "newAmazonMetric"), as
  when Amazon adds columns over time
* ``drop_field`` — the middle row lacks ``field`` (default "cost")
* ``float_noise`` — every non-integral number (money, rates) is written as a float off by one binary unit
  (`83.22999999999999` for 83.23), as a float-backed service writes JSON; Ads reports and (scoped to
  "/reports") SP-API documents
* ``null_metrics`` — metrics of events that did not happen are null instead of 0: clicks, cost, CPC and CTR
  in a row without clicks; a window's purchases, units and sales in a row without conversions in it

The other row kinds rewrite Ads reports' rows only, so they must be scoped to "/reporting".

``role_denied`` (SP-API) answers createReport for ``report_type`` (default GET_SALES_AND_TRAFFIC_REPORT) with
the 403 Amazon sends when the app lacks the report's role — the same body as a rejected token.

Any fault can be limited to one HTTP ``method`` and to the next ``hours`` of Amazon time (the sandbox's clock,
sped up by its time scale): ``throttle`` without ``retry_after`` for 2 hours on POST /reporting/reports is the
429 streak Amazon is known for (ADS_API.md §7).

`RateLimits` are Amazon's token buckets, enforced once switched on (admin API): per client id + profile for the
Ads API, per application + selling partner + operation for the SP-API (SP_API.md §4.1). An empty bucket answers
429 — without `Retry-After` on SP-API and Ads reporting, as Amazon does.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from http import HTTPStatus

import msgspec
from flask import Response, jsonify, request

from .accounts import derive_int

REQUEST_KINDS = ("throttle", "error", "latency")
STREAM_KINDS = ("stall",)
ROW_KINDS = ("extra_column", "drop_field", "float_noise", "null_metrics")
REPORT_KINDS = ("report_fail", "report_pending", "truncated_gzip", "invalid_json", *ROW_KINDS)
ROLE_KINDS = ("role_denied",)
ROW_FIELD = {"extra_column": "newAmazonMetric", "drop_field": "cost"}
SERVER_ERRORS = (500, 502, 503, 504)
HOUR = 3600.0
CLICK_METRICS = ("clicks", "cost", "spend", "costPerClick", "clickThroughRate")
CONVERSION_STEMS = ("purchases", "purchasesSameSku", "unitsSoldClicks", "unitsSoldSameSku", "sales",
                    "attributedSalesSameSku")  # fmt: skip


@dataclass
class Fault:
    id: int
    kind: str
    rate: float = 1.0
    path_prefix: str = "/"
    status: int = 500
    retry_after: int | None = None
    seconds: float = 1.0
    count: int | None = None  # remaining firings; None = unlimited
    field: str | None = None  # the column a row-level kind adds or drops
    method: str | None = None  # only requests with this HTTP method; None = any
    until: float | None = None  # Amazon time after which it no longer fires (from `hours`); None = never
    hold_hours: float | None = None  # report_pending: how long a report is held; None = forever
    report_type: str | None = None  # role_denied: the SP-API report type refused


class Faults:
    def __init__(self, seed: int, clock: Callable[[], float]):
        self._rng = random.Random(derive_int(seed, "faults"))
        self._clock = clock  # Amazon's (the sandbox's `now`)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self.limits = RateLimits(clock)
        self.throttled = 0  # 429s answered, by faults and rate limits

    def add(self, spec: dict) -> Fault:
        kind = spec.get("kind")
        kinds = REQUEST_KINDS + STREAM_KINDS + REPORT_KINDS + ROLE_KINDS
        if kind not in kinds:
            raise ValueError(f"kind must be one of {kinds}")
        rate = float(spec.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        status = int(spec.get("status", 500))
        if kind == "error" and status not in SERVER_ERRORS:
            raise ValueError(f"status must be one of {SERVER_ERRORS}")
        path_prefix = str(spec.get("path_prefix") or "/")
        if kind == "float_noise" and not path_prefix.startswith(("/reporting", "/reports")):
            raise ValueError("float_noise rewrites report files: scope it with path_prefix '/reporting' or '/reports'")
        elif kind in ROW_KINDS and kind != "float_noise" and not path_prefix.startswith("/reporting"):
            raise ValueError(f"{kind} rewrites Ads report rows: scope it with path_prefix '/reporting'")
        retry_after = spec.get("retry_after")
        count = spec.get("count")
        hours, hold_hours = spec.get("hours"), spec.get("hold_hours")
        if any(h is not None and float(h) <= 0 for h in (hours, hold_hours)):
            raise ValueError("hours and hold_hours must be > 0")
        fault = Fault(
            id=next(self._ids),
            kind=kind,
            rate=rate,
            path_prefix=path_prefix,
            status=status,
            retry_after=None if retry_after is None else int(retry_after),
            seconds=float(spec.get("seconds", 1.0)),
            count=None if count is None else int(count),
            field=str(spec.get("field") or ROW_FIELD.get(kind, "")) or None,
            method=str(spec["method"]).upper() if spec.get("method") else None,
            until=None if hours is None else self._clock() + float(hours) * HOUR,
            hold_hours=None if hold_hours is None else float(hold_hours),
            report_type=str(spec.get("report_type") or "GET_SALES_AND_TRAFFIC_REPORT") if kind in ROLE_KINDS else None,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def _fire(self, kinds: tuple[str, ...], path: str) -> list[Fault]:
        fired = []
        now = self._clock()
        method = request.method if request else None
        with self._lock:
            for f in self._faults:
                applies = f.kind in kinds and path.startswith(f.path_prefix) and f.count != 0
                applies = applies and f.method in (None, method) and (f.until is None or now < f.until)
                if applies and self._rng.random() < f.rate:
                    if f.count is not None:
                        f.count -= 1
                    fired.append(f)
        return fired

    def before_request(self, path: str) -> Response | None:
        """Sleep for latency faults, then maybe answer with a throttle or server error, then apply the Ads API's
        rate limits (the SP-API's need the seller behind the token: `spapi` asks `limits` itself)."""
        for f in self._fire(REQUEST_KINDS, path):
            if f.kind == "latency":
                time.sleep(f.seconds)
                continue
            status = 429 if f.kind == "throttle" else f.status
            resp = error_response(path, status)
            if f.kind == "throttle" and f.retry_after is not None:
                resp.headers["Retry-After"] = str(f.retry_after)
            return self.answered(resp)
        if family(path) in ("profiles", "sp", "reporting"):
            client_id = request.headers.get("Amazon-Advertising-API-ClientId", "")
            wait = self.limits.take(("ads", client_id, request.headers.get("Amazon-Advertising-API-Scope", "")),
                                    self.limits.ads)
            if wait:
                resp = error_response(path, 429)
                if family(path) != "reporting":  # reporting v3's 429s come without it (ADS_API.md §5)
                    resp.headers["Retry-After"] = str(math.ceil(wait))
                return self.answered(resp)
        return None

    def answered(self, resp: Response) -> Response:
        """Count the 429s the sandbox answers (the benchmarks print them)."""
        if resp.status_code == 429:
            with self._lock:
                self.throttled += 1
        return resp

    def role_denied(self, path: str, report_type: str) -> bool:
        """Whether a role_denied fault refuses this SP-API report type."""
        return any(f.report_type == report_type for f in self._fire(ROLE_KINDS, path))

    def stall(self, path: str) -> float | None:
        """Seconds to pause half-way through this download's body, if a stall fault fires."""
        return max((f.seconds for f in self._fire(STREAM_KINDS, path)), default=None)

    def report_faults(self, path: str) -> list[Fault]:
        return self._fire(REPORT_KINDS, path)


def alter_rows(data: bytes, faults: list[Fault]) -> bytes:
    """Apply row-level faults to a report's JSON array; money stays the exact text it was unless made noisy."""
    rows = msgspec.json.Decoder(float_hook=Decimal).decode(data)
    for fault in faults:
        if fault.kind == "extra_column":
            for row in rows:
                row[fault.field] = {"value": 1.5, "note": "a column this product never requested"}
        elif fault.kind == "drop_field" and rows:
            rows[len(rows) // 2].pop(fault.field, None)
        elif fault.kind == "null_metrics":
            for row in rows:
                _null_metrics(row)
        elif fault.kind == "float_noise":
            rows = noisy(rows)
    return msgspec.json.Encoder(decimal_format="number").encode(rows)


def noisy(value, up: bool = True):
    """``value`` with every non-integral number (Decimal or float) made a float one binary unit off, alternately
    up and down: what a float-backed service's JSON holds."""
    if isinstance(value, dict):
        return {k: noisy(v, i % 2 == 0) for i, (k, v) in enumerate(value.items())}
    if isinstance(value, list):
        return [noisy(v, up) for v in value]
    if type(value) in (Decimal, float) and value != int(value):
        return math.nextafter(float(value), math.inf if up else -math.inf)
    return value


def _null_metrics(row: dict) -> None:
    """Zero metrics of events that did not happen become null (other zeros stay)."""
    names = list(CLICK_METRICS) if row.get("clicks") == 0 else []
    for days in (1, 7, 14, 30):
        if row.get(f"purchases{days}d") == 0:
            names += [f"{stem}{days}d" for stem in CONVERSION_STEMS]
    for name in names:
        if name in row and row[name] == 0:
            row[name] = None


class RateLimits:
    """Amazon's token buckets on the sandbox's clock; off until switched on. `take` answers 0 (go) or how long
    the bucket needs for a token (refused: nothing taken)."""

    SP = {  # operation: (rate per second, burst), Amazon's default usage plans (SP_API.md §4.1, §5.4)
        "createReport": (1 / 60, 15),
        "getReport": (2.0, 15),
        "getReportDocument": (1 / 60, 15),
        "inventory": (2.0, 2),
    }

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple, tuple[float, float]] = {}
        self.enabled = False
        self.ads = (5.0, 10)  # Amazon publishes none for the Ads API; per client id + profile

    def configure(self, spec: dict) -> None:
        enabled = spec.get("enabled", self.enabled)
        rate, burst = float(spec.get("ads_rate", self.ads[0])), int(spec.get("ads_burst", self.ads[1]))
        if not isinstance(enabled, bool) or rate <= 0 or burst < 1:
            raise ValueError("enabled must be true or false, ads_rate > 0 and ads_burst >= 1")
        with self._lock:
            self.enabled, self.ads = enabled, (rate, burst)
            self._buckets.clear()

    def view(self) -> dict:
        return {"enabled": self.enabled, "ads_rate": self.ads[0], "ads_burst": self.ads[1],
                "sp": {op: {"rate": rate, "burst": burst} for op, (rate, burst) in self.SP.items()}}  # fmt: skip

    def take(self, key: tuple, limit: tuple[float, int]) -> float:
        if not self.enabled:
            return 0.0
        rate, burst = limit
        with self._lock:
            now = self._clock()
            level, at = self._buckets.get(key, (float(burst), now))
            level = min(float(burst), level + max(0.0, now - at) * rate)
            if level < 1:
                self._buckets[key] = (level, now)
                return (1 - level) / rate
            self._buckets[key] = (level - 1, now)
            return 0.0


def family(path: str) -> str:
    if path.startswith("/auth/o2/"):
        return "lwa"
    if path.startswith("/v2/profiles"):
        return "profiles"
    if path.startswith("/sp/"):
        return "sp"
    if path.startswith("/reporting/"):
        return "reporting"
    if path.startswith(("/reports/", "/fba/")):
        return "spapi"
    return "s3"


def error_response(path: str, status: int) -> Response:
    """A throttle/server error body in the shape of the API family the path belongs to."""
    fam = family(path)
    throttled = status == 429
    phrase = HTTPStatus(status).phrase
    if fam == "lwa":
        error = "server_error" if status == 500 else "temporarily_unavailable"
        resp = jsonify({"error": error, "error_description": "The server is temporarily unavailable"})
    elif fam == "profiles":
        resp = jsonify({"code": str(status), "details": phrase})
    elif fam == "sp":
        resp = jsonify({"code": "THROTTLED" if throttled else "INTERNAL_ERROR", "message": phrase})
    elif fam == "reporting":
        resp = jsonify({"code": str(status), "detail": phrase})
    elif fam == "spapi":
        code = "QuotaExceeded" if throttled else ("ServiceUnavailable" if status == 503 else "InternalFailure")
        message = (
            "You exceeded your quota for the requested resource."
            if throttled
            else "We encountered an internal error. Please try again."
        )
        resp = jsonify({"errors": [{"code": code, "message": message}]})
        resp.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    else:
        code = "SlowDown" if throttled or status == 503 else "InternalError"
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{code}</Message></Error>'
        return Response(body, status=503 if throttled else status, mimetype="application/xml")
    resp.status_code = status
    return resp
