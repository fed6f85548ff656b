"""`marketing db`: schema migrations."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import current as alembic_current
from flask_migrate import upgrade as alembic_upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command()
@with_appcontext
def upgrade() -> None:
    """Apply every pending migration."""
    alembic_upgrade()
    click.echo("database is up to date")


@db.command()
@with_appcontext
def current() -> None:
    """Print the applied revision."""
    alembic_current()
