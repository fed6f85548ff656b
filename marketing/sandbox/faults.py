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
* ``report_pending`` — stays PENDING / IN_QUEUE forever
* ``truncated_gzip`` — the downloaded file is cut in half
* ``invalid_json`` — the file is valid gzip of invalid JSON
* ``extra_column`` — every row carries a column nobody requested, ``field`` (default "newAmazonMetric"), as
  when Amazon adds columns over time
* ``drop_field`` — the middle row lacks ``field`` (default "cost")

The last two rewrite Ads reports' rows only, so they must be scoped to "/reporting".
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal
from http import HTTPStatus

import msgspec
from flask import Response, jsonify

from .accounts import derive_int

REQUEST_KINDS = ("throttle", "error", "latency")
STREAM_KINDS = ("stall",)
ROW_KINDS = ("extra_column", "drop_field")
REPORT_KINDS = ("report_fail", "report_pending", "truncated_gzip", "invalid_json", *ROW_KINDS)
ROW_FIELD = {"extra_column": "newAmazonMetric", "drop_field": "cost"}
SERVER_ERRORS = (500, 502, 503, 504)


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


class Faults:
    def __init__(self, seed: int):
        self._rng = random.Random(derive_int(seed, "faults"))
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict) -> Fault:
        kind = spec.get("kind")
        kinds = REQUEST_KINDS + STREAM_KINDS + REPORT_KINDS
        if kind not in kinds:
            raise ValueError(f"kind must be one of {kinds}")
        rate = float(spec.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        status = int(spec.get("status", 500))
        if kind == "error" and status not in SERVER_ERRORS:
            raise ValueError(f"status must be one of {SERVER_ERRORS}")
        path_prefix = str(spec.get("path_prefix") or "/")
        if kind in ROW_KINDS and not path_prefix.startswith("/reporting"):
            raise ValueError(f"{kind} rewrites Ads report rows: scope it with path_prefix '/reporting'")
        retry_after = spec.get("retry_after")
        count = spec.get("count")
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
        with self._lock:
            for f in self._faults:
                applies = f.kind in kinds and path.startswith(f.path_prefix) and f.count != 0
                if applies and self._rng.random() < f.rate:
                    if f.count is not None:
                        f.count -= 1
                    fired.append(f)
        return fired

    def before_request(self, path: str) -> Response | None:
        """Sleep for latency faults, then maybe answer with a throttle or server error."""
        for f in self._fire(REQUEST_KINDS, path):
            if f.kind == "latency":
                time.sleep(f.seconds)
                continue
            status = 429 if f.kind == "throttle" else f.status
            resp = error_response(path, status)
            if f.kind == "throttle" and f.retry_after is not None:
                resp.headers["Retry-After"] = str(f.retry_after)
            return resp
        return None

    def stall(self, path: str) -> float | None:
        """Seconds to pause half-way through this download's body, if a stall fault fires."""
        return max((f.seconds for f in self._fire(STREAM_KINDS, path)), default=None)

    def report_faults(self, path: str) -> list[Fault]:
        return self._fire(REPORT_KINDS, path)

    def report_flags(self, path: str) -> set[str]:
        return {f.kind for f in self.report_faults(path)}


def alter_rows(data: bytes, faults: list[Fault]) -> bytes:
    """Apply row-level faults to a report's JSON array; money stays the exact text it was."""
    rows = msgspec.json.Decoder(float_hook=Decimal).decode(data)
    for fault in faults:
        if fault.kind == "extra_column":
            for row in rows:
                row[fault.field] = {"value": 1.5, "note": "a column this product never requested"}
        elif fault.kind == "drop_field" and rows:
            rows[len(rows) // 2].pop(fault.field, None)
    return msgspec.json.Encoder(decimal_format="number").encode(rows)


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
