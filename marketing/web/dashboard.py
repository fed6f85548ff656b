"""Dashboard pages below a seller: campaign, keyword/target and search terms; helpers shared with the overview
and seller page (date range, profile choice, table listing, CSV download).

Every page resolves the seller with `seller_or_404` and the profile among the seller's managed profiles, so
foreign, unknown and malformed ids all end in 404.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from marketing import audit, charts, exports, settings_registry
from marketing.bids import rules
from marketing.clock import today, today_in
from marketing.dashboard import periods, queries
from marketing.dashboard.metrics import Comparison, Metrics
from marketing.extensions import db
from marketing.models import AdsProfile, CampaignTargetAcos, Seller
from marketing.security import permissions as P
from marketing.suggestions import lifecycle
from marketing.suggestions import queries as suggestion_queries
from marketing.web import MAX_AMAZON_ID, MAX_PAGE, parse_id

bp = Blueprint("dashboard", __name__)

CSV_MAX_ROWS = 100_000


# --- request helpers ----------------------------------------------------------------------------------------

def amazon_id(value) -> int:
    """An Amazon id from the URL or query string; anything else is simply not found."""
    number = parse_id(str(value or ""), MAX_AMAZON_ID)
    if number is None:
        abort(404)
    return number


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


def listing(sorts: tuple[str, ...], default: str = "cost", per_page: int = 50) -> queries.Listing:
    """Sort, direction, filters and page from the query string; unknown values fall back to defaults."""
    sort = request.args.get("sort", default)
    page = request.args.get("page", "1")
    return queries.Listing(
        sort=sort if sort in sorts else default,
        descending=request.args.get("dir", "asc" if sort in ("name", "text", "search_term") else "desc") != "asc",
        page=parse_id(page, MAX_PAGE) or 1,
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


METRIC_HEADER = ["currency", "impressions", "clicks", "spend", "ad_sales", "orders", "units", "acos", "roas", "cpc"]


def metric_cells(m: Metrics, currency: str) -> list:
    return [currency, m.impressions, m.clicks, m.cost, m.sales, m.orders, m.units, _plain(m.acos), _plain(m.roas),
            _plain(m.cpc)]


def _plain(value):
    return "" if value is None else round(value, 4)


def csv_response(name: str, header: list[str], rows) -> Response:
    """A CSV download; text cells that a spreadsheet would run as a formula are prefixed with a quote."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    filename = f"{name}-{today().isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def figure(fig) -> str:
    return charts.to_json(fig)


def _seller_profile(seller_id: int) -> tuple[Seller, AdsProfile, list[AdsProfile]]:
    seller = P.seller_or_404(seller_id)
    profiles = queries.managed_profiles([seller.id]).get(seller.id, [])
    chosen = profile(seller, profiles)
    if chosen is None:
        abort(404)
    return seller, chosen, profiles


# --- seller page (rendered by sellers.show) -----------------------------------------------------------------

def seller_view(seller: Seller) -> dict:
    """What the seller page shows for one managed profile and period, or which empty state applies."""
    profiles = queries.managed_profiles([seller.id]).get(seller.id, [])
    chosen = profile(seller, profiles)
    when, message = period(chosen)
    view = {"period": when, "period_message": message, "profiles": profiles, "profile": chosen,
            "presets": periods.PRESETS, "last_sync": queries.latest_sync_runs([seller.id]).get(seller.id)}
    ads = seller.connection("ads")
    if chosen is None:
        view["empty"] = "connect" if ads is None or not ads.connected else "choose_profiles"
        return view
    key = (seller.id, chosen.currency_code)
    current = queries.totals([seller.id], when, chosen.profile_id).get(key, Metrics())
    previous = queries.totals([seller.id], when.previous(), chosen.profile_id).get(key, Metrics())
    days = queries.daily([seller.id], when, chosen.profile_id).get(chosen.currency_code)
    asked = listing(queries.CAMPAIGN_SORTS)
    table = queries.campaigns(chosen.profile_id, when, asked)
    if days is None and not table.total:
        sync = view["last_sync"]
        view["empty"] = "first_sync" if sync is None or sync.status in ("queued", "running") else "no_data"
    view.update(
        comparison=Comparison(current, previous), campaigns=table, listing=asked,
        states=queries.campaign_states(chosen.profile_id),
        chart=figure(charts.daily_trend({chosen.currency_code: days or [(d, Metrics()) for d in when.dates()]},
                                        f"{seller.name} · {chosen.country_code}")),
    )
    return view


def seller_campaigns_csv(seller: Seller) -> Response:
    profiles = queries.managed_profiles([seller.id]).get(seller.id, [])
    chosen = profile(seller, profiles)
    if chosen is None:
        abort(404)
    when, _ = period(chosen)
    table = queries.campaigns(chosen.profile_id, when, listing(queries.CAMPAIGN_SORTS))
    return csv_response(
        f"campaigns-{chosen.profile_id}", ["campaign_id", "name", "state", "from", "to", *METRIC_HEADER],
        ([r.id, r.info["name"], r.info["state"], when.start, when.end, *metric_cells(r.metrics, chosen.currency_code)]
         for r in table.items))


@bp.get("/sellers/<int:seller_id>/daily.csv")
@login_required
def daily_csv(seller_id: int):
    """The seller's daily rows at one level for the period (what `marketing export` writes), streamed so that a
    large seller's 90 days never sit in memory; cells a spreadsheet would run as formulas are neutralised."""
    seller = P.seller_or_404(seller_id)
    level = request.args.get("level", "campaign")
    if level not in exports.LEVELS:
        abort(404)
    profiles = queries.managed_profiles([seller.id]).get(seller.id, [])
    when, _ = period(profile(seller, profiles))

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(exports.columns(level))
        for count, row in enumerate(exports.iter_export_rows(seller, level, when.start, when.end), 1):
            writer.writerow([_cell(exports.text_value(v)) for v in row.values()])
            if count % 2000 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"{level}-daily-{seller.id}-{when.start.isoformat()}-{when.end.isoformat()}.csv"
    return Response(stream_with_context(chunks()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- campaign, target and search-term pages -----------------------------------------------------------------

# Amazon ids are 64-bit: they are read with `amazon_id`, not the app's `int` converter (database ids, 32-bit).
@bp.get("/sellers/<int:seller_id>/campaigns/<campaign_id>")
@login_required
def campaign(seller_id: int, campaign_id: str):
    seller, chosen, profiles, info = _campaign(seller_id, campaign_id)
    if wants_csv():
        when, _ = period(chosen)
        currency, campaign_id = chosen.currency_code, info.campaign_id
        if request.args.get("table") == "ad_groups":
            return csv_response(
                f"ad-groups-{campaign_id}", ["ad_group_id", "name", "state", "default_bid", *METRIC_HEADER],
                ([g.id, g.info["name"], g.info["state"], g.info["default_bid"], *metric_cells(g.metrics, currency)]
                 for g in queries.ad_groups(chosen.profile_id, campaign_id, when)))
        targets = queries.targets(chosen.profile_id, campaign_id, when, listing(queries.TARGET_SORTS))
        return csv_response(
            f"targets-{campaign_id}",
            ["target_id", "text", "kind", "match_type", "ad_group", "state", "bid", "bid_inherited", *METRIC_HEADER],
            ([t.id, t.info["text"], t.info["kind"], t.info["match_type"], t.info["ad_group"], t.info["state"],
              t.info["bid"], bool(t.info["inherited"]), *metric_cells(t.metrics, currency)] for t in targets.items))
    return _campaign_page(seller, chosen, profiles, info)


ACOS_PLACES = Decimal("0.0001")  # the column's scale


# Posted to the page's own URL, so a page re-rendered with an error keeps working links (they reuse the URL).
@bp.post("/sellers/<int:seller_id>/campaigns/<campaign_id>")
@login_required
def campaign_target_acos(seller_id: int, campaign_id: str):
    """Set (or clear, back to the seller's setting) the target ACoS the bid engine uses for this campaign."""
    seller, chosen, profiles, info = _campaign(seller_id, campaign_id)
    P.require(P.SELLER_SETTINGS, seller)
    raw = request.form.get("target_acos", "").strip()
    key = {"seller_id": seller.id, "profile_id": chosen.profile_id, "campaign_id": info.campaign_id}
    row = db.session.get(CampaignTargetAcos, key)
    new = None
    if request.form.get("action") != "clear" and raw:
        try:
            new = Decimal(settings_registry.DEFINITIONS["target_acos"].parse(raw)).quantize(ACOS_PLACES)
        except settings_registry.SettingError as exc:
            flash(str(exc), "error")
            return _campaign_page(seller, chosen, profiles, info, status=400, typed=raw)
    old = row.target_acos if row is not None else None
    if new == old:
        flash("Target ACoS unchanged.", "success")
    else:
        if new is None:
            db.session.delete(row)
        elif row is None:
            db.session.add(CampaignTargetAcos(**key, target_acos=new, updated_by_id=current_user.id))
        else:
            row.target_acos, row.updated_by_id = new, current_user.id
        audit.record("campaign.target_acos_changed", actor=current_user, target_type="campaign",
                     target_id=str(info.campaign_id), seller_id=seller.id, profile_id=chosen.profile_id,
                     old=_percent(old), new=_percent(new))
        db.session.commit()
        flash(f"Target ACoS of this campaign: {_percent(new)} %." if new is not None
              else "This campaign follows the seller's target ACoS again.", "success")
    kept = {k: v for k, v in request.args.items() if k in ("profile", "range", "from", "to")}
    return redirect(url_for("dashboard.campaign", seller_id=seller.id, campaign_id=info.campaign_id, **kept), 303)


def _percent(value: Decimal | None) -> str:
    """A stored percent as typed ("12.5", not "12.5000"); empty for none (the audit log's convention)."""
    return "" if value is None else format(value.normalize(), "f")


def _campaign(seller_id: int, campaign_id: str):
    """Seller, profile, the seller's profiles and the campaign, or 404 (foreign, unknown or malformed ids)."""
    campaign_id = amazon_id(campaign_id)
    seller, chosen, profiles = _seller_profile(seller_id)
    info = queries.campaign(seller.id, chosen.profile_id, campaign_id)
    if info is None:
        abort(404)
    return seller, chosen, profiles, info


def _campaign_page(seller: Seller, chosen: AdsProfile, profiles: list[AdsProfile], info, status: int = 200,
                   typed: str | None = None):
    campaign_id = info.campaign_id
    when, message = period(chosen)
    currency = chosen.currency_code
    asked = listing(queries.TARGET_SORTS)
    days = queries.campaign_daily(chosen.profile_id, campaign_id, when)
    own = db.session.get(CampaignTargetAcos, {"seller_id": seller.id, "profile_id": chosen.profile_id,
                                              "campaign_id": campaign_id})
    acos = {"own": own is not None, "seller": _percent(Decimal(settings_registry.get("target_acos", seller.id))),
            "value": _percent(own.target_acos) if own is not None else None}
    acos["typed"] = typed if typed is not None else (acos["value"] or "")
    suggestions = suggestion_queries.latest_suggestions_by_target(seller.id, chosen.profile_id, campaign_id)
    in_flight = any(s.status in lifecycle.IN_FLIGHT for s in suggestions.values())
    return render_template(
        "dashboard/campaign.html", seller=seller, profile=chosen, profiles=profiles, campaign=info, period=when,
        period_message=message, presets=periods.PRESETS, targets=queries.targets(chosen.profile_id, campaign_id,
                                                                                 when, asked),
        targets_listing=asked, suggestions=suggestions,
        pending=sum(s.status == lifecycle.PENDING for s in suggestions.values()),
        sending=in_flight and suggestion_queries.apply_queued(seller.id),
        paused=in_flight and rules.writes_paused(seller.id),
        can_act=P.can(current_user, P.ACT_ON_SUGGESTIONS, seller),
        can_configure=P.can(current_user, P.SELLER_SETTINGS, seller), acos=acos,
        ad_groups=queries.ad_groups(chosen.profile_id, campaign_id, when),
        totals=sum((m for _, m in days), Metrics()),
        chart=figure(charts.daily_trend({currency: days}, info.name))), status


@bp.get("/sellers/<int:seller_id>/targets/<target_id>")
@login_required
def target(seller_id: int, target_id: str):
    target_id = amazon_id(target_id)
    seller, chosen, profiles = _seller_profile(seller_id)
    info = queries.target(seller.id, chosen.profile_id, target_id)
    if info is None:
        abort(404)
    when, message = period(chosen)
    currency = chosen.currency_code
    days = queries.target_daily(chosen.profile_id, target_id, when)
    # A day's margin each side: the chart marks changes on the profile's local day, the log is in UTC.
    since = dt.datetime.combine(when.start - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    before = dt.datetime.combine(when.end + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
    changes = queries.bid_changes(seller.id, target_id, since, before)
    if wants_csv() and request.args.get("table") == "changes":
        return csv_response(
            f"bid-changes-{target_id}", ["at_utc", "action", "by", "old_bid", "new_bid"],
            ([c.at.isoformat(), c.action, c.actor or "", c.old_bid, c.new_bid] for c in changes))
    if wants_csv():
        return csv_response(
            f"target-{target_id}", ["date", "bid", *METRIC_HEADER],
            ([d.date, d.bid, *metric_cells(d.metrics, currency)] for d in days))
    return render_template(
        "dashboard/target.html", seller=seller, profile=chosen, profiles=profiles, target=info, period=when,
        period_message=message, presets=periods.PRESETS, days=days, changes=changes,
        totals=sum((d.metrics for d in days), Metrics()),
        campaign_name=queries.campaign_names(chosen.profile_id, [info.campaign_id]).get(info.campaign_id),
        chart=figure(charts.bid_history(days, changes, currency, info.text, chosen.timezone)))


@bp.get("/sellers/<int:seller_id>/search-terms")
@login_required
def search_terms(seller_id: int):
    seller, chosen, profiles = _seller_profile(seller_id)
    campaign_id = amazon_id(request.args["campaign"]) if request.args.get("campaign") else None
    if campaign_id is not None and queries.campaign(seller.id, chosen.profile_id, campaign_id) is None:
        abort(404)  # another seller's (or profile's) campaign id answers like one in a path
    when, message = period(chosen)
    asked = listing(queries.SEARCH_TERM_SORTS)
    terms = queries.search_terms(chosen.profile_id, when, asked, campaign_id)
    if wants_csv():
        return csv_response(
            f"search-terms-{chosen.profile_id}", ["campaign_id", "campaign", "search_term", *METRIC_HEADER],
            ([r.id, r.info["campaign"], r.info["search_term"], *metric_cells(r.metrics, chosen.currency_code)]
             for r in terms.items))
    campaign_name = queries.campaign_names(chosen.profile_id, [campaign_id]).get(campaign_id) if campaign_id else None
    return render_template(
        "dashboard/search_terms.html", seller=seller, profile=chosen, profiles=profiles, period=when,
        period_message=message, presets=periods.PRESETS, terms=terms, listing=asked, campaign_id=campaign_id,
        campaign_name=campaign_name)


def overview_csv(result, when: periods.Period) -> Response:
    """Every visible seller's period metrics per currency, with the previous period's spend and sales."""
    return csv_response(
        "overview", ["seller", "from", "to", *METRIC_HEADER, "tacos", "previous_spend", "previous_ad_sales"],
        ([s.seller.name, when.start, when.end, *metric_cells(c.current, currency), _plain(c.current.tacos),
          c.previous.cost, c.previous.sales]
         for s in result.sellers for currency, c in s.comparisons.items()))
