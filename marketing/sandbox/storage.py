"""Report files and their pre-signed, S3-looking download URLs.

Amazon hands out report files as pre-signed S3 links: the query string carries the credentials, the
link expires (Ads: 3600 s, SP-API: 300 s) and a request that *also* sends an Authorization header is
rejected by S3 with a 400 XML error. Files are gzip without `Content-Encoding`, so clients must gunzip
themselves. The signature is an HMAC, so a tampered or expired link fails like on S3.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from .accounts import derive


@dataclass
class Blob:
    data: bytes
    bucket: str
    key: str


class Blobs:
    def __init__(self, seed: int, clock: Callable[[], float]):
        self._key = derive(seed, "s3-signing")
        self._access_key = "AKIA" + derive(seed, "s3-access").hex()[:16].upper()
        self._clock = clock
        self._blobs: dict[tuple[str, str], Blob] = {}
        self._lock = threading.Lock()

    def put(self, bucket: str, key: str, data: bytes) -> Blob:
        blob = Blob(data, bucket, key)
        with self._lock:
            self._blobs[(bucket, key)] = blob
        return blob

    def get(self, bucket: str, key: str) -> Blob | None:
        return self._blobs.get((bucket, key))

    def _signature(self, bucket: str, key: str, amz_date: str, expires: int) -> str:
        msg = f"{bucket}/{key}\n{amz_date}\n{expires}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def presign(self, origin: str, blob: Blob, ttl: int, region: str) -> tuple[str, float]:
        """An absolute URL on `origin` and its expiry (epoch seconds)."""
        now = self._clock()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{self._access_key}/{amz_date[:8]}/{region}/s3/aws4_request",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(ttl),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Security-Token": uuid.uuid5(uuid.NAMESPACE_URL, blob.key).hex,
            "X-Amz-Signature": self._signature(blob.bucket, blob.key, amz_date, ttl),
        }
        return f"{origin.rstrip('/')}/{blob.bucket}/{blob.key}?{urlencode(query)}", now + ttl

    def check(self, bucket: str, key: str, args: dict[str, str]) -> str:
        """'' if the pre-signed query is valid now, else the S3 error code."""
        try:
            amz_date, expires = args["X-Amz-Date"], int(args["X-Amz-Expires"])
            given = args["X-Amz-Signature"]
        except (KeyError, ValueError):
            return "AccessDenied"
        if not hmac.compare_digest(given, self._signature(bucket, key, amz_date, expires)):
            return "SignatureDoesNotMatch"
        try:
            issued = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return "AccessDenied"
        if self._clock() > issued + expires:
            return "Expired"
        return ""
