"""`marketing sandbox`: run the fake Amazon standalone and print the environment to reach it.

The command object is plain click (no Flask app context), so the product's CLI can register it as is.
Start-up output is shell-ready `export` lines plus one comment line per seller (or, with `--json`,
the same as one JSON object). Credentials derive from the seed, so a restart keeps them valid.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
import sys
from datetime import datetime

import click
from werkzeug.serving import make_server

from .accounts import return_urls
from .app import create_app
from .retail import DEFAULT_PROMO_SHAPE, PROMO_SHAPES
from .shapes import DEFAULT, SHAPES
from .testing import environment, seller_infos


class _ArgumentError(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"marketing sandbox: {self.format_message()}", err=True)


class _Command(click.Command):
    """Bad arguments end with exit status 2 and a single line on stderr."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _ArgumentError(exc.format_message().replace("\n", " ")) from None


def _unspecified(host: str) -> bool:
    """A wildcard bind address is reachable on loopback; print that instead."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return not host


def _return_urls(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return return_urls(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command("sandbox", cls=_Command)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0 picks a free port.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same market and credentials.")
@click.option("--size", type=click.Choice(["demo", "large"]), default="demo", show_default=True)
@click.option("--sellers", type=click.IntRange(min=1), default=None, help="Number of sellers (demo-size each).")
@click.option("--report-delay", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Seconds.")
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Amazon's clock speed: 60 makes an hour of report delays, holds and throttling a minute.")
@click.option(
    "--market",
    type=click.Choice(list(SHAPES)),
    default=DEFAULT,
    show_default=True,
    help="The ad market's shape (hidden from the product; see marketing/sandbox/shapes.py).",
)
@click.option(
    "--promo-shape",
    type=click.Choice(list(PROMO_SHAPES)),
    default=DEFAULT_PROMO_SHAPE,
    show_default=True,
    help="How demand answers promotions (hidden from the product; see marketing/sandbox/retail.py).",
)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Market day (YYYY-MM-DD).")
@click.option(
    "--ads-redirect-uri",
    "ads_redirect_uris",
    multiple=True,
    callback=_return_urls,
    metavar="URL",
    help="An Allowed Return URL of the Ads app (repeat for more; default: the product on 127.0.0.1:5000).",
)
@click.option(
    "--sp-redirect-uri",
    "sp_redirect_uris",
    multiple=True,
    callback=_return_urls,
    metavar="URL",
    help="An Allowed Return URL of the SP-API app; the first is its default. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the start-up info as one JSON line.")
def sandbox_command(
    host: str,
    port: int,
    seed: int,
    size: str,
    sellers: int | None,
    report_delay: float,
    time_scale: float,
    market: str,
    promo_shape: str,
    today: datetime | None,
    ads_redirect_uris: tuple[str, ...],
    sp_redirect_uris: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run the Amazon sandbox (LWA, Ads API, reporting, SP-API) with a simulated market."""
    redirect_uris = {kind: uris for kind, uris in (("ads", ads_redirect_uris), ("sp", sp_redirect_uris)) if uris}
    app = create_app(
        seed=seed,
        size=size,
        sellers=sellers,
        report_delay=report_delay,
        time_scale=time_scale,
        today=today.date() if today else None,
        redirect_uris=redirect_uris,
        market=market,
        promo_shape=promo_shape,
    )
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        click.echo(f"marketing sandbox: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    shown_host = "127.0.0.1" if _unspecified(host) else host
    sb = app.extensions["sandbox"]
    env = environment(sb, f"http://{shown_host}:{server.server_port}")
    infos = seller_infos(sb)
    if as_json:
        click.echo(json.dumps({**env, "sellers": [vars(s) for s in infos]}, separators=(",", ":")))
    else:
        for key, value in env.items():
            click.echo(f"export {key}={shlex.quote(value)}")
        for s in infos:
            click.echo(
                f"# seller {s.name} region={s.region} ads_refresh_token={s.ads_refresh_token} "
                f"sp_refresh_token={s.sp_refresh_token} selling_partner_id={s.selling_partner_id} "
                f"profiles={','.join(str(p['profileId']) for p in s.profiles)}"
            )
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
