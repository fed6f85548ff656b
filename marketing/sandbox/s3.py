"""The S3 side of report downloads: `GET /<bucket>/<key>?X-Amz-…` with S3's XML errors."""

from __future__ import annotations

import secrets
import time
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, request

from .state import current

blueprint = Blueprint("s3", __name__)
BUCKET_PREFIXES = ("offline-report-storage-", "tortuga-prod-")


def _xml_error(status: int, code: str, message: str, **extra: str) -> Response:
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId>"
        f"<HostId>{secrets.token_urlsafe(48)}</HostId></Error>"
    )
    return Response(body, status=status, mimetype="application/xml")


def is_bucket(name: str) -> bool:
    return name.startswith(BUCKET_PREFIXES)


@blueprint.get("/<bucket>/<path:key>")
def download(bucket: str, key: str):
    sb = current()
    if not is_bucket(bucket):
        abort(404)
    auth = request.headers.get("Authorization")
    if auth is not None:
        return _xml_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
            "parameter or the Authorization header should be specified",
            ArgumentName="Authorization",
            ArgumentValue=auth,
        )
    problem = sb.blobs.check(bucket, key, request.args.to_dict())
    if problem == "Expired":
        expires = {"X-Amz-Expires": request.args["X-Amz-Expires"]}
        return _xml_error(403, "AccessDenied", "Request has expired", **expires)
    if problem:
        message = {
            "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided.",
            "AccessDenied": "Access Denied",
        }[problem]
        return _xml_error(403, problem, message)
    blob = sb.blobs.get(bucket, key)
    if blob is None:
        return _xml_error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
    pause = sb.faults.stall(request.path)
    if pause is None:
        resp = Response(blob.data, mimetype="application/octet-stream")
    else:
        resp = Response(_stalled(blob.data, pause), mimetype="application/octet-stream")
        resp.headers["Content-Length"] = str(len(blob.data))
    resp.headers["x-amz-server-side-encryption"] = "AES256"
    return resp


def _stalled(data: bytes, pause: float):
    half = len(data) // 2
    yield data[:half]
    time.sleep(pause)
    yield data[half:]
