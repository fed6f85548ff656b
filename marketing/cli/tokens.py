"""`marketing tokens`: the daily check on demand, and encryption-key management."""

from __future__ import annotations

import click
from cryptography.fernet import Fernet
from flask.cli import with_appcontext

from marketing.cli.common import Failed
from marketing.connections import service
from marketing.connections.check import check_all
from marketing.security.crypto import SecretUnreadable


@click.group()
def tokens() -> None:
    """Stored Amazon authorizations."""


@tokens.command("check")
@with_appcontext
def check() -> None:
    """Exchange every stored token with Amazon now, update statuses and send due notices."""
    summary = check_all()
    states = ", ".join(f"{n} {state}" for state, n in sorted(summary.states.items())) or "nothing to check"
    click.echo(f"checked {summary.checked}: {states}; {summary.notices} notices")
    if summary.errors:
        raise Failed(f"{len(summary.errors)} connection(s) could not be checked: {summary.errors[0]}")


@tokens.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first TOKEN_ENCRYPTION_KEYS key."""
    try:
        count = service.rotate_key()
    except SecretUnreadable as exc:
        raise Failed(f"{exc}; nothing was changed") from None
    click.echo(f"re-encrypted {count} stored token(s) with the first key")


@tokens.command("new-key")
def new_key() -> None:
    """Print a new Fernet key to put first in TOKEN_ENCRYPTION_KEYS."""
    click.echo(Fernet.generate_key().decode())
