"""What every command shares: the exceptions that set the exit code and the SELLER argument."""

from __future__ import annotations

import click

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
