"""`marketing sync SELLER [--days N] [--wait]`: start a seller's sync run, optionally follow it to the end."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from marketing.cli.common import Failed
from marketing.cli.common import seller_argument as _seller
from marketing.cli.params import Whole
from marketing.extensions import db
from marketing.jobs.worker import work_until
from marketing.models import SyncRun
from marketing.models.sync import RunStatus
from marketing.sync import plan, runs


def work_until_done(run_id: int, on_progress=lambda progress: None, poll: float = 0.5) -> dict:
    """Follow the run to its end; with no live worker, work the `sync` queue in this process."""
    progress = {}

    def ended() -> bool:
        db.session.expire_all()
        progress.update(runs.progress(db.session.get(SyncRun, run_id)))
        on_progress(progress)
        return not progress["active"]

    work_until("sync", ended, poll=poll)
    return progress


class _Reporter:
    """A progress bar on stderr: redrawn in place on a terminal, a line per change otherwise."""

    WIDTH = 24

    def __init__(self):
        self.last = None
        self.tty = sys.stderr.isatty()

    def __call__(self, p: dict) -> None:
        filled = self.WIDTH * p["reports_done"] // max(1, p["reports_total"])
        line = (f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] run {p['id']} {p['status']}: "
                f"{p['reports_done']}/{p['reports_total']} reports, {p['reports_waiting']} waiting for Amazon, "
                f"{p['rows']} rows" + (f"; {p['waiting']}" if p["waiting"] else ""))
        if line == self.last:
            return
        self.last = line
        click.echo(("\r" + line.ljust(100)) if self.tty else line, err=True, nl=not self.tty)

    def close(self) -> None:
        if self.tty and self.last:
            click.echo("", err=True)


@click.command("sync")
@click.argument("seller")
@click.option("--days", type=Whole(1, plan.BACKFILL_DAYS),
              help=f"Trailing days to pull (default {plan.NIGHTLY_DAYS}; {plan.BACKFILL_DAYS} for a profile "
                   "never synced).")
@click.option("--wait", is_flag=True, help="Follow the run to its end (works the queue if no worker runs).")
@with_appcontext
def sync(seller: str, days: int | None, wait: bool) -> None:
    """Sync a seller's Sponsored Products structure and performance from Amazon (SELLER: name or id)."""
    target = _seller(seller)
    try:
        run, started = runs.start_run(target.id, "manual", days=days)
    except runs.SyncRefused as exc:
        raise Failed(str(exc)) from None
    click.echo(f"{'Started' if started else 'Already running:'} sync run {run.id} for {target.name} "
               f"({run.start_date} to {run.end_date}).", err=True)
    if not wait:
        click.echo(run.id)
        return
    current_app.logger.setLevel("WARNING")
    reporter = _Reporter()
    try:
        result = work_until_done(run.id, reporter)
    finally:
        reporter.close()
    if result["notice"]:
        click.echo(f"Notice: {result['notice']}", err=True)
    if result["status"] != RunStatus.SUCCEEDED:  # partial: "S stored, F failed: why"
        raise Failed(f"sync run {result['id']} {result['status']}: {result['error']}")
    click.echo(f"sync run {result['id']} succeeded: {result['reports_done']} reports, {result['rows']} rows "
               f"in {result['duration_seconds']}s")
