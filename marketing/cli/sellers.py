"""`marketing sellers`: add, connect, list and disconnect sellers. SELLER is an id or the unique name."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from marketing import sellers as seller_service
from marketing import settings_registry
from marketing.cli.common import BadInput, Failed
from marketing.cli.common import seller_argument as _seller
from marketing.cli.params import AMAZON_ID
from marketing.clock import now, today
from marketing.connections import service
from marketing.extensions import db
from marketing.models import APIS, REGIONS, Seller
from marketing.models.connections import Method
from marketing.sync import runs


@click.group()
def sellers() -> None:
    """Seller accounts and their Amazon connections."""


@sellers.command("add")
@click.argument("name")
@click.option("--region", type=click.Choice(REGIONS, case_sensitive=False), required=True)
@with_appcontext
def add(name: str, region: str) -> None:
    """Add a seller; prints its id."""
    try:
        seller = seller_service.create_seller(name, region)
    except seller_service.SellerError as exc:
        raise BadInput(str(exc)) from None
    db.session.commit()
    click.echo(seller.id)


@sellers.command("connect")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--api", type=click.Choice(APIS), required=True)
@click.option("--refresh-token-file", type=click.File("r"), required=True,
              help="File holding the refresh token, or - for standard input.")
@click.option("--profile", "profiles", multiple=True, type=AMAZON_ID,
              help="Advertising profile id to manage (repeatable; default: every seller/vendor profile).")
@click.option("--authorized-on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default: today.")
@with_appcontext
def connect(seller_ref: str, api: str, refresh_token_file, profiles: tuple[int, ...],
            authorized_on: dt.datetime | None) -> None:
    """Store a refresh token after proving it with Amazon."""
    seller = _seller(seller_ref)
    if profiles and api != "ads":
        raise BadInput("--profile applies to --api ads only")
    day = authorized_on.date() if authorized_on else today()
    if day > today() or day < today() - dt.timedelta(days=service.SP_AUTHORIZATION_DAYS):
        raise BadInput("--authorized-on must be within the last 365 days")
    try:
        token = service.clean_token(refresh_token_file.read(8192))
    except service.ConnectError as exc:
        raise BadInput(str(exc)) from None
    try:
        service.prove_refresh_token(seller, api, token)
    except service.ConnectError as exc:
        raise Failed(str(exc)) from None
    authorized_at = now() if day == today() else dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    connection = service.store_token(seller, api, token, authorized_at=authorized_at, actor=None, method=Method.CLI)
    if api == "ads":
        # Profiles are checked before the one commit, so a refused --profile leaves the old connection (or none).
        try:
            service.refresh_profiles(connection, manage_new=not profiles)
        except Exception as exc:
            db.session.rollback()
            raise Failed(f"the advertising profiles could not be listed, so nothing was stored: {exc}") from None
        unknown = sorted(set(profiles) - {p.profile_id for p in connection.profiles if p.manageable})
        if unknown:
            message = (f"{', '.join(map(str, unknown))} is not a seller/vendor profile of this {seller.name} ads "
                       "connection; nothing was stored (run connect again with valid --profile ids)")
            db.session.rollback()
            raise BadInput(message)
        if profiles:
            service.set_managed_profiles(connection, set(profiles), actor=None)
    db.session.commit()
    if api == "ads":
        managed = [str(p.profile_id) for p in connection.profiles if p.managed]
        click.echo(f"connected {seller.name} ads; managing profiles {', '.join(managed) or 'none'}")
        run = runs.start_backfill(seller.id)  # as after connecting on the page: history without anyone waiting
        if run is not None:
            click.echo(f"sync run {run.id} queued: {run.start_date} to {run.end_date}", err=True)
    else:
        click.echo(f"connected {seller.name} sp; expires {connection.expires_at.date().isoformat()}")


def _connection_json(seller, api: str) -> dict:
    connection = seller.connection(api)
    status = service.token_status(connection)
    iso = lambda value: value.isoformat() if value else None  # noqa: E731
    data = {"status": status.state, "degraded": status.degraded, "expires_at": iso(status.expires_at),
            "days_left": status.days_left, "last_success_at": iso(status.last_success_at),
            "last_error_code": status.last_error_code, "last_error_message": status.last_error_message,
            "token_last4": status.token_last4}
    if api == "ads" and connection is not None:
        data["profiles"] = [{"profile_id": p.profile_id, "country": p.country_code, "currency": p.currency_code,
                             "type": p.account_type, "managed": p.managed} for p in connection.profiles]
    return data


@sellers.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_sellers(as_json: bool) -> None:
    """List sellers with each connection's status."""
    rows = db.session.scalars(select(Seller).order_by(Seller.name)).all()
    data = [{"id": s.id, "name": s.name, "region": s.region, "selling_partner_id": s.selling_partner_id,
             "marketplaces": s.marketplaces or [], **{api: _connection_json(s, api) for api in APIS}} for s in rows]
    if as_json:
        click.echo(json.dumps(data))
        return
    for row in data:
        click.echo(f"{row['id']}\t{row['name']}\t{row['region']}\tads={row['ads']['status']}\tsp={row['sp']['status']}")


@sellers.command("disconnect")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--api", type=click.Choice(APIS), required=True)
@with_appcontext
def disconnect(seller_ref: str, api: str) -> None:
    """Erase a seller's stored token (history is kept)."""
    seller = _seller(seller_ref)
    if not service.disconnect(seller, api, actor=None):
        raise BadInput(f"{seller.name} has no {api} connection")
    db.session.commit()
    click.echo(f"disconnected {seller.name} {api}")


@sellers.command("set")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--objective", type=click.Choice(("profit", "growth")), help="What the bid engine optimizes.")
@click.option("--target-acos", "target_acos", metavar="PCT", help="Target ACoS in percent (a cap), e.g. 25.")
@with_appcontext
def set_settings(seller_ref: str, objective: str | None, target_acos: str | None) -> None:
    """Set the seller's bid objective and target ACoS (audited, as on the suggestions page)."""
    seller = _seller(seller_ref)
    changes = {"bid_objective": objective, "target_acos": target_acos}
    if not any(v is not None for v in changes.values()):
        raise BadInput("nothing to set: give --objective and/or --target-acos")
    try:
        for key, raw in changes.items():
            if raw is not None:
                settings_registry.set_value(key, raw, actor=None, seller_id=seller.id)
    except settings_registry.SettingError as exc:
        db.session.rollback()
        raise BadInput(str(exc)) from None
    db.session.commit()
    click.echo(f"{seller.name}: objective {settings_registry.get('bid_objective', seller.id)}, "
               f"target ACoS {settings_registry.get('target_acos', seller.id)}%")
