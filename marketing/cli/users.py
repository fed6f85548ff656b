"""`marketing users`: create, list, give or take sellers, and issue password links."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from marketing import accounts
from marketing.cli.common import BadInput, seller_argument
from marketing.extensions import db
from marketing.models import ROLES, User


@click.group()
def users() -> None:
    """People who log in."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a user; the password comes from a prompt or --password-stdin, never an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(email, role, name=name, password=password)
    except accounts.AccountError as exc:
        raise BadInput(str(exc)) from None
    db.session.commit()
    click.echo(f"created {user.email} ({user.role}) id={user.id}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_users(as_json: bool) -> None:
    """List users."""
    rows = db.session.scalars(select(User).order_by(User.email)).all()
    data = [{
        "id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.active,
        "sellers": sorted(s.name for s in u.sellers),
        "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
    } for u in rows]
    if as_json:
        click.echo(json.dumps(data))
        return
    for row in data:
        status = "active" if row["active"] else "deactivated"
        click.echo(f"{row['id']}\t{row['email']}\t{row['role']}\t{status}\t{', '.join(row['sellers'])}")


@users.command("reset-link")
@click.argument("email")
@with_appcontext
def reset_link(email: str) -> None:
    """Print a one-time link (valid 24 hours) for EMAIL to set a password."""
    user = _user(email)
    if not user.active:
        raise BadInput(f"{user.email} is deactivated")
    link = accounts.issue_reset_link(user)
    db.session.commit()
    click.echo(link)


def _user(email: str) -> User:
    user = accounts.find_user(email)
    if user is None:
        raise BadInput(f"no user with email {email.strip()}")
    return user


@users.command("assign")
@click.argument("email")
@click.argument("seller_refs", metavar="SELLER...", nargs=-1, required=True)
@with_appcontext
def assign(email: str, seller_refs: tuple[str, ...]) -> None:
    """Let EMAIL see and work on these sellers (each an id or name), besides those they have."""
    user = _user(email)
    wanted = [seller_argument(ref) for ref in seller_refs]
    _save_sellers(user, [*user.sellers, *wanted])


@users.command("unassign")
@click.argument("email")
@click.argument("seller_refs", metavar="SELLER...", nargs=-1, required=True)
@with_appcontext
def unassign(email: str, seller_refs: tuple[str, ...]) -> None:
    """Take these sellers (each an id or name) away from EMAIL."""
    user = _user(email)
    dropped = {seller_argument(ref).id for ref in seller_refs}
    _save_sellers(user, [s for s in user.sellers if s.id not in dropped])


def _save_sellers(user: User, sellers: list) -> None:
    """Store the user's sellers (audited) and print them, saying when nothing changed."""
    changed = accounts.set_sellers(user, sellers)
    db.session.commit()
    names = ", ".join(sorted(s.name for s in user.sellers)) or "no sellers"
    click.echo(f"{user.email}: {names}" + ("" if changed else " (unchanged)"))
