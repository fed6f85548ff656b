"""Small helpers for reading submitted forms (CSRF is enforced globally by CSRFProtect)."""

from __future__ import annotations

from flask import request


def field(name: str, max_length: int = 500) -> str:
    return (request.form.get(name) or "").strip()[:max_length]

