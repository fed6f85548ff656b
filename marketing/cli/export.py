"""`marketing export SELLER --level ... --from D --to D --format csv|json`: daily performance to stdout."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from marketing import exports
from marketing.cli.common import BadInput, Failed, seller_argument
from marketing.exports import LEVELS


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option} must be a date like 2025-06-01, got {value!r}") from None


@click.command("export")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--level", type=click.Choice(LEVELS), required=True)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD")
@click.option("--format", "fmt", type=click.Choice(("csv", "json")), default="csv", show_default=True)
@with_appcontext
def export(seller_ref: str, level: str, start: str, end: str, fmt: str) -> None:
    """Daily Sponsored Products rows per entity and profile, streamed to stdout."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if first > last:
        raise BadInput("--from must not be after --to")
    seller = seller_argument(seller_ref)
    out = sys.stdout
    rows = exports.iter_export_rows(seller, level, first, last)
    try:
        if fmt == "csv":
            exports.write_csv(rows, out, level)
        else:
            exports.write_json(rows, out)
    except SQLAlchemyError as exc:
        raise Failed(f"export failed: {type(exc.orig or exc).__name__}") from None
