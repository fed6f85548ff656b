"""`marketing products`: a seller's unit costs and fees from a CSV file, as the products page imports them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from marketing.cli.common import BadInput
from marketing.cli.common import seller_argument as _seller
from marketing.extensions import db
from marketing.products import service


@click.group()
def products() -> None:
    """Products: unit costs, prices and fees."""


@products.command("import")
@click.argument("seller_ref", metavar="SELLER")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def import_costs(seller_ref: str, file) -> None:
    """Import FILE (CSV: asin,unit_cost[,price][,referral_fee_pct][,fba_fee]; a header names the columns, a file
    without one is asin,unit_cost[,price]). One bad line refuses the whole file; changes are audited."""
    seller = _seller(seller_ref)
    rows = service.rows_for(seller.id)
    lines, errors = service.read_import(file.read(), rows)
    if errors:
        for message in errors[:-1]:
            click.echo(f"marketing: {message}", err=True)
        raise BadInput(f"{errors[-1]} Nothing was imported.")
    changed = service.import_lines(seller, rows, lines, None)
    db.session.commit()
    click.echo(f"Imported {len(lines)} line{'s' if len(lines) != 1 else ''}: {changed} value"
               f"{'s' if changed != 1 else ''} changed.")
