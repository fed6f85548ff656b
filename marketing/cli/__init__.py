"""The `marketing` command, grouped by domain.

Conventions (scripts depend on them): exit 0 ok, 1 runtime or Amazon failure, 2 usage or bad input;
one clear line on stderr and no traceback; list commands take --json; secrets are never arguments.
"""

from __future__ import annotations

import sys

import click
from flask.cli import ScriptInfo

from marketing import create_app
from marketing.cli import (
    bids,
    db_commands,
    demo,
    email,
    export,
    products,
    promotions,
    sellers,
    sync,
    tokens,
    users,
    worker,
)
from marketing.config import ConfigError
from marketing.sandbox.cli import sandbox_command


def _create_app():
    return create_app()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Marketing-optimization dashboard for Amazon sellers."""
    if ctx.obj is None:  # tests pass a ScriptInfo bound to their app
        ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False)


# The commands `marketing` offers, in `--help` order; a new command group is added here.
COMMANDS = (
    db_commands.db,
    users.users,
    sellers.sellers,
    tokens.tokens,
    worker.worker,
    demo.demo,
    sync.sync,
    sandbox_command,
    bids.bids,
    promotions.promotions,
    products.products,
    export.export,
    email.email,
)


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="marketing", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("marketing: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            click.echo(exc.ctx.get_usage(), err=True)
        click.echo(f"marketing: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"marketing: configuration: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # last resort: one line, never a traceback
        click.echo(f"marketing: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


for _command in COMMANDS:
    cli.add_command(_command)
