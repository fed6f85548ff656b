"""The dashboard's sums, remembered per process and keyed on each seller's data version.

The overview, the seller page and the search terms sum fact and rollup rows that change only when a report is
ingested or the rollup refreshed, and both bump `Seller.data_version` in the transaction that writes the rows
(`marketing.models.data_changed`). A remembered sum is keyed on the versions its sellers had when it was read,
so it needs no expiry: the next ingest makes a new key and the old one ages out of the bounded store. Fifty
marketers opening the same agency overview sum it once per web worker, not fifty times, and a seller whose
sync is running makes only its own figures be read again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from flask import current_app
from sqlalchemy import select

from marketing.extensions import db
from marketing.models import Seller, profile_sellers

T = TypeVar("T")
ENTRIES = 4096  # per process; an entry is one seller's period totals or one page of a listing


class Store:
    """A bounded least-recently-used map, safe across a worker's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def init_app(app) -> None:
    app.extensions["dashboard_cache"] = Store(ENTRIES)


def store() -> Store:
    return current_app.extensions["dashboard_cache"]


def versions(seller_ids: Iterable[int]) -> dict[int, int]:
    """Each seller's data version, read now (one indexed query)."""
    return dict(db.session.execute(select(Seller.id, Seller.data_version).where(Seller.id.in_(list(seller_ids)))).all())


def profile_version(profile_id: int) -> int:
    """The data version of the seller whose Ads connection lists the profile (-1 for none: nothing to remember)."""
    found = db.session.scalar(
        select(Seller.data_version).where(Seller.id.in_(profile_sellers(profile_id))).limit(1))
    return -1 if found is None else found


def per_seller(name: Hashable, seller_ids: Iterable[int], compute: Callable[[list[int]], dict[int, T]],
               empty: T) -> dict[int, T]:
    """`compute(ids)` → {seller id: value} for each seller, reading only the sellers whose value at their current
    version is not remembered (in one call); a seller `compute` leaves out gets `empty`."""
    cache, current = store(), versions(seller_ids)
    found, missing = {}, []
    for seller_id, version in current.items():
        value = cache.get((name, seller_id, version), _MISSING)
        if value is _MISSING:
            missing.append(seller_id)
        else:
            found[seller_id] = value
    if missing:
        computed = compute(missing)
        for seller_id in missing:
            found[seller_id] = computed.get(seller_id, empty)
            cache.put((name, seller_id, current[seller_id]), found[seller_id])
    return found


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per `key`; the key must hold the data versions the value depends on."""
    cache = store()
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.put(key, value)
    return value


_MISSING = object()
