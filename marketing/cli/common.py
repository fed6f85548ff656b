"""What every command shares: the exceptions that set the exit code, the SELLER argument, `--as EMAIL` and the
suggestions an approve command acts on."""

from __future__ import annotations

import click
from sqlalchemy import select

from marketing import accounts
from marketing.cli.params import DATABASE_ID
from marketing.extensions import db
from marketing.models import Suggestion
from marketing.security import permissions as P
from marketing.sellers import find_seller
from marketing.suggestions import lifecycle


class Failed(click.ClickException):
    """A runtime failure: one line on stderr, exit 1."""

    exit_code = 1


class BadInput(click.ClickException):
    """Bad input: one line on stderr, exit 2."""

    exit_code = 2


def seller_argument(ref: str):
    """The seller a SELLER argument names (its id or unique name); BadInput when there is none."""
    seller = find_seller(ref)
    if seller is None:
        raise BadInput(f"no seller with id or name {ref!r}")
    return seller


def acting_user(seller, email: str):
    """The user an `--as EMAIL` decision on the seller's suggestions is recorded for; BadInput when unknown or
    not allowed to act on them."""
    user = accounts.find_user(email)
    if user is None:
        raise BadInput(f"no user {email!r}")
    if not P.can(user, P.ACT_ON_SUGGESTIONS, seller):
        raise BadInput(f"{user.email} ({user.role}) may not act on {seller.name}'s suggestions")
    return user


def approve_options(noun: str):
    """An approve command's `--all | --id ID … --as EMAIL`, passed as ``approve_all``, ``ids`` and ``email``."""
    def decorate(command):
        command = click.option("--as", "email", required=True,
                               help="Email of the user the approval is recorded for.")(command)
        command = click.option("--id", "ids", multiple=True, type=DATABASE_ID,
                               help="Suggestion id to approve (repeatable).")(command)
        return click.option("--all", "approve_all", is_flag=True,
                            help=f"Approve every pending {noun} suggestion.")(command)
    return decorate


def chosen_suggestions(seller, kind: str, approve_all: bool, ids: tuple[int, ...]) -> list[Suggestion]:
    """The seller's suggestions of `kind` an `--all | --id ID …` option names: every pending one, or exactly
    those ids (BadInput naming any the seller has not of that kind, or for neither or both options)."""
    if approve_all == bool(ids):
        raise BadInput("give either --all or one or more --id")
    if approve_all:
        return list(db.session.scalars(select(Suggestion).where(
            Suggestion.seller_id == seller.id, Suggestion.kind == kind, Suggestion.status == lifecycle.PENDING)
            .order_by(Suggestion.id)))
    chosen = [s for s in lifecycle.for_seller(seller.id, ids) if s.kind == kind]
    missing = sorted(set(ids) - {s.id for s in chosen})
    if missing:
        raise BadInput(f"{seller.name} has no {kind} suggestion {', '.join(map(str, missing))}")
    return chosen
