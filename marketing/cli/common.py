"""What every command shares: the exceptions that set the exit code, the SELLER argument and `--as EMAIL`."""

from __future__ import annotations

import click

from marketing import accounts
from marketing.security import permissions as P
from marketing.sellers import find_seller


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
