"""What a dashboard page reads from its query string: the date range, the profile, the table's sort, filters
and page, and whether a CSV is wanted. Shared by the seller, overview, campaign, target and search-term pages;
anything malformed falls back to a default, and an id that is not the seller's is a 404."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from marketing.clock import today, today_in
from marketing.dashboard import periods, queries
from marketing.extensions import db
from marketing.models import AdsProfile, Seller
from marketing.numbers import BadNumber, parse_whole
from marketing.web.http import MAX_AMAZON_ID, MAX_PAGE, parse_id

CSV_MAX_ROWS = 100_000
_ASCENDING_BY_DEFAULT = ("name", "text", "search_term")


def amazon_id(value) -> int:
    """An Amazon id from the URL or query string; anything else is simply not found."""
    number = parse_id(str(value or ""), MAX_AMAZON_ID)
    if number is None:
        abort(404)
    return number


def page_number() -> int:
    """`?page=` from 1 to MAX_PAGE (beyond it a page number would only overflow OFFSET); 1 when malformed."""
    try:
        number = parse_whole(request.args.get("page")) or 1
    except BadNumber:
        return 1
    return min(max(number, 1), MAX_PAGE)


def paginate(query: Select, per_page: int) -> Pagination:
    """One page of `query` at `?page=`, a number beyond the last showing the last page."""
    page = db.paginate(query, page=page_number(), per_page=per_page, error_out=False)
    if page.page > page.pages and page.total:
        page = db.paginate(query, page=page.pages, per_page=per_page, error_out=False)
    return page


def period(profile: AdsProfile | None = None) -> tuple[periods.Period, str | None]:
    """The page's date range; presets count back from the profile's own today (its reports' days)."""
    return periods.resolve(request.args, today_in(profile.timezone) if profile else today())


def profile(seller: Seller, profiles: list[AdsProfile]) -> AdsProfile | None:
    """The managed profile named by `?profile=` (404 if it is not one of this seller's), else the first."""
    if "profile" not in request.args:
        return profiles[0] if profiles else None
    wanted = amazon_id(request.args["profile"])
    chosen = next((p for p in profiles if p.profile_id == wanted), None)
    if chosen is None:
        abort(404)
    return chosen


def seller_profiles(seller: Seller) -> tuple[list[AdsProfile], AdsProfile | None]:
    """The seller's managed profiles and the one the page is about (None when there is none)."""
    profiles = queries.managed_profiles([seller.id]).get(seller.id, [])
    return profiles, profile(seller, profiles)


def listing(sorts: tuple[str, ...], default: str = "cost", per_page: int = 50) -> queries.Listing:
    """Sort, direction, filters and page from the query string; unknown values fall back to defaults."""
    sort = request.args.get("sort", default)
    return queries.Listing(
        sort=sort if sort in sorts else default,
        descending=request.args.get("dir", "asc" if sort in _ASCENDING_BY_DEFAULT else "desc") != "asc",
        page=page_number(),
        per_page=CSV_MAX_ROWS if wants_csv() else per_page,
        state=(request.args.get("state") or "").strip().lower()[:16] or None,
        search=(request.args.get("q") or "").strip()[:100] or None,
    )


def url_with(**changes) -> str:
    """This page's URL with some query arguments changed (None removes one).

    A new preset drops an explicit from/to, and any change but the page number goes back to page 1.
    """
    args = request.args.to_dict()
    if "range" in changes:
        args.pop("from", None)
        args.pop("to", None)
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def wants_csv() -> bool:
    return request.args.get("format") == "csv"
