"""Request helpers every blueprint shares: ids typed in URLs and forms, and whether the client wants JSON."""

from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # database ids
MAX_AMAZON_ID = 2**63 - 1  # Amazon ids are 64-bit
MAX_PAGE = 999_999  # beyond it a page number would only overflow OFFSET


def parse_id(text: str | None, limit: int = MAX_ID) -> int | None:
    """A whole number typed in a URL or form (an id, a page), or None.

    `str.isdigit()` alone lets "²" through to `int()` (a 500), and a number beyond the column's range
    would fail in the database."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        return None
    number = int(text)
    return number if number <= limit else None


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in our URLs is a database id; one beyond the column's range cannot exist.

    It becomes 0 (never an id), so the view's lookup finds nothing and answers 404. Without this,
    /sellers/99999999999999999999 reaches the database and fails there (a 500). (Raising ValidationError
    instead would turn POSTs to such URLs into 405s, because of how werkzeug reports method mismatches.)
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.is_json or best == "application/json"
