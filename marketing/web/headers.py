"""Response headers beyond the CSP (set in the app factory): no caching of private pages, no server banner."""

from __future__ import annotations

from flask import Response, request
from flask_login import current_user
from werkzeug.serving import WSGIRequestHandler

# The same bytes for everyone, with their own cache headers.
SHARED_ENDPOINTS = ("static", "vendor.plotly_js")
DOWNLOAD_TYPES = ("text/csv", "application/json")


def no_store(response: Response) -> Response:
    """Pages seen logged in and downloads stay out of browser and proxy caches: after logout, the back button
    or a shared computer's cache must not show a seller's figures."""
    if request.endpoint in SHARED_ENDPOINTS:
        return response
    download = response.mimetype in DOWNLOAD_TYPES or "attachment" in response.headers.get("Content-Disposition", "")
    if download or getattr(current_user, "is_authenticated", False):
        response.headers["Cache-Control"] = "no-store"
    return response


class AnonymousRequestHandler(WSGIRequestHandler):
    """Werkzeug's server without its `Server: Werkzeug/x Python/y` header (what the demo serves with)."""

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() != "server":
            super().send_header(keyword, value)
