"""Checks on every request's input before any view reads it."""

from __future__ import annotations

from flask import abort, request


def refuse_nul_characters() -> None:
    """A NUL character in a query or form field is refused (400): no page means one, and PostgreSQL cannot
    store or even compare text containing it (a search for it would fail in the database, a 500)."""
    for fields in (request.args, request.form):
        for name, values in fields.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                abort(400, description="The request contains a NUL character; remove it and try again.")
