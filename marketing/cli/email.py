"""`marketing email`: preview a user's weekly summary, send the weekly run, send a test message."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from marketing.accounts import find_user
from marketing.cli.common import BadInput, Failed
from marketing.clock import now
from marketing.digest import preferences, render, weekly, weeks
from marketing.extensions import db
from marketing.mail import compose, sendlog, transport


def _week(value: str | None):

    if value is None:
        return None
    try:
        return weeks.parse(value)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _user(email: str):

    user = find_user(email)
    if user is None:
        raise BadInput(f"no user with email {email!r}")
    return user


@click.group()
def email() -> None:
    """Weekly summaries and alerts by email."""


@email.command()
@click.argument("address", metavar="EMAIL")
@click.option("--week", metavar="YYYY-Www", help="The week to summarise (default: the last complete one).")
@click.option("--text", is_flag=True, help="Print the plain-text part instead of the HTML part.")
@with_appcontext
def preview(address: str, week: str | None, text: bool) -> None:
    """Print EMAIL's weekly summary to stdout, as it would be sent."""

    digest = weekly.digest_for(_user(address), _week(week))
    click.echo(render.text(digest) if text else render.html(digest))


@email.command("send-weekly")
@click.option("--week", metavar="YYYY-Www", help="The week to summarise (default: each user's last complete one).")
@click.option("--user", "address", metavar="EMAIL", help="Only this user.")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
@with_appcontext
def send_weekly(week: str | None, address: str | None, dry_run: bool) -> None:
    """Send the weekly summary now to every user (or one); a user who has that week's summary is skipped."""

    chosen = _week(week)
    users = [_user(address)] if address else [user for user, _ in preferences.recipients()]
    if not dry_run and transport.off_reason():
        raise Failed(transport.off_reason())
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    ids = [user.id for user in users]
    with transport.one_connection():
        for user_id in ids:
            target = chosen or weekly.current_week(preferences.get(user_id))
            outcome = weekly.send_to(user_id, target, dry_run=dry_run)
            counts["failed" if outcome == "retrying" else outcome] += 1
    click.echo(f"{counts['sent']} sent, {counts['skipped']} skipped, {counts['failed']} failed")
    if counts["failed"]:
        raise SystemExit(1)


@email.command()
@click.argument("address", metavar="EMAIL")
@with_appcontext
def test(address: str) -> None:
    """Send one test message to EMAIL through the configured SMTP (or the development outbox)."""

    if transport.off_reason():
        raise Failed(transport.off_reason())
    try:
        transport.address(address)
    except transport.PermanentFailure as exc:
        raise BadInput(str(exc)) from None
    sent_at = now()
    row = sendlog.open_row(f"test:{address}:{sent_at.isoformat()}", None, address, "test")
    state = sendlog.send(row, lambda: compose.message(
        address, "Test message from Marketing",
        f"This test message was sent at {sent_at:%Y-%m-%d %H:%M} UTC by `marketing email test`."))
    if state == "queued":  # a temporary refusal: nothing retries a test message, so the log says failed
        row.state = "failed"
        db.session.commit()
    if state != "sent":
        raise Failed(f"not sent: {row.last_error or 'no reason recorded'}")
    click.echo(f"sent to {address} via {transport.mode()}")
