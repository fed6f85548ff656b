"""Small helpers for reading submitted forms (CSRF is enforced globally by CSRFProtect)."""

from __future__ import annotations

from flask import request


def field(name: str, max_length: int = 500) -> str:
    return (request.form.get(name) or "").strip()[:max_length]


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after login (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
