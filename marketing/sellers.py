"""Seller accounts: creation, lookup by id or name, deletion (used by pages and the CLI)."""

from __future__ import annotations

from sqlalchemy import func, select

from marketing import audit
from marketing.extensions import db
from marketing.models import REGIONS, Seller, User


class SellerError(ValueError):
    """A user-facing reason a seller operation was refused."""


def create_seller(name: str, region: str, *, actor: User | None = None) -> Seller:
    name = " ".join((name or "").split())
    region = (region or "").strip().upper()
    if not name:
        raise SellerError("Give the seller a name.")
    if len(name) > 120:
        raise SellerError("Seller names are at most 120 characters.")
    if region not in REGIONS:
        raise SellerError(f"Region must be one of {', '.join(REGIONS)}.")
    if db.session.scalar(select(Seller).where(func.lower(Seller.name) == name.lower())):
        raise SellerError(f"A seller named {name} already exists.")
    seller = Seller(name=name, region=region)
    db.session.add(seller)
    db.session.flush()
    audit.record("seller.created", actor=actor, target_type="seller", target_id=seller.id,
                 seller_id=seller.id, name=name, region=region)
    return seller


def find_seller(ref: str) -> Seller | None:
    """A seller by numeric id or by its unique name (the CLI's SELLER argument)."""
    ref = (ref or "").strip()
    if ref.isascii() and ref.isdigit() and int(ref) <= 2**31 - 1:
        seller = db.session.get(Seller, int(ref))
        if seller is not None:
            return seller
    return db.session.scalar(select(Seller).where(func.lower(Seller.name) == ref.lower()))


def delete_seller(seller: Seller) -> None:
    db.session.delete(seller)
