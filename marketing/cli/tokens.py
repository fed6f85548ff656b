"""`marketing tokens`: the daily check on demand, and encryption-key management."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group()
def tokens() -> None:
    """Stored Amazon authorizations."""


@tokens.command("check")
@with_appcontext
def check() -> None:
    """Exchange every stored token with Amazon now, update statuses and send due notices."""
    from marketing.cli import Failed
    from marketing.connections.check import check_all

    summary = check_all()
    states = ", ".join(f"{n} {state}" for state, n in sorted(summary.states.items())) or "nothing to check"
    click.echo(f"checked {summary.checked}: {states}; {summary.notices} notices")
    if summary.errors:
        raise Failed(f"{len(summary.errors)} connection(s) could not be checked: {summary.errors[0]}")


@tokens.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first TOKEN_ENCRYPTION_KEYS key."""
    from marketing.cli import Failed
    from marketing.connections.service import rotate_key as rotate
    from marketing.security.crypto import SecretUnreadable

    try:
        count = rotate()
    except SecretUnreadable as exc:
        raise Failed(f"{exc}; nothing was changed") from None
    click.echo(f"re-encrypted {count} stored token(s) with the first key")


@tokens.command("new-key")
def new_key() -> None:
    """Print a new Fernet key to put first in TOKEN_ENCRYPTION_KEYS."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())
