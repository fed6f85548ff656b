"""`marketing worker`: an RQ worker inside the app context, with the scheduler."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from marketing.jobs import QUEUES
from marketing.jobs import worker as worker_module


def _queues(ctx, param, value: str | None) -> tuple[str, ...]:
    if not value:
        return QUEUES
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [n for n in names if n not in QUEUES]
    if unknown:
        raise click.BadParameter(f"unknown queue {', '.join(unknown)}; choose from {', '.join(QUEUES)}")
    return names


@click.command()
@click.option("--queues", callback=_queues, help=f"Comma-separated, default: {','.join(QUEUES)}.")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run a background worker (its jobs at CPU niceness `WORKER_NICE`, below the web server's)."""
    os.nice(max(0, current_app.config["WORKER_NICE"] - os.nice(0)))  # at least that nice, never less
    worker_module.run(current_app._get_current_object(), queues, burst=burst)
