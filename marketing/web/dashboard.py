"""Dashboard pages below a seller: campaign, keyword/target and search terms, and the seller's daily CSV.

Every page resolves the seller with `seller_or_404` and the profile among the seller's managed profiles, so
foreign, unknown and malformed ids all end in 404. The query string is read by `page_args`, the figures come
from `marketing.dashboard`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketing import charts, exports, settings_registry
from marketing.bids import history, rules
from marketing.dashboard import campaign_settings as campaign_settings_service
from marketing.dashboard import periods, queries
from marketing.dashboard.metrics import Metrics
from marketing.dashboard.tables import METRIC_HEADER, metric_cells
from marketing.extensions import db
from marketing.models import AdsProfile, Seller
from marketing.security import permissions as P
from marketing.suggestions import lifecycle
from marketing.suggestions import queries as suggestion_queries
from marketing.web.downloads import csv_response, csv_stream
from marketing.web.page_args import amazon_id, listing, period, seller_profiles, wants_csv

bp = Blueprint("dashboard", __name__)


def _seller_profile(seller_id: int) -> tuple[Seller, AdsProfile, list[AdsProfile]]:
    seller = P.seller_or_404(seller_id)
    profiles, chosen = seller_profiles(seller)
    if chosen is None:
        abort(404)
    return seller, chosen, profiles


@bp.get("/sellers/<int:seller_id>/daily.csv")
@login_required
def daily_csv(seller_id: int):
    """The seller's daily rows at one level for the period (what `marketing export` writes), streamed so that a
    large seller's 90 days never sit in memory; cells a spreadsheet would run as formulas are neutralised."""
    seller = P.seller_or_404(seller_id)
    level = request.args.get("level", "campaign")
    if level not in exports.LEVELS:
        abort(404)
    when, _ = period(seller_profiles(seller)[1])
    rows = ([exports.text_value(v) for v in row.values()]
            for row in exports.iter_export_rows(seller, level, when.start, when.end))
    return csv_stream(f"{level}-daily-{seller.id}-{when.start.isoformat()}-{when.end.isoformat()}.csv",
                      exports.columns(level), rows)


# --- campaign, target and search-term pages -----------------------------------------------------------------

# Amazon ids are 64-bit: they are read with `amazon_id`, not the app's `int` converter (database ids, 32-bit).
@bp.get("/sellers/<int:seller_id>/campaigns/<campaign_id>")
@login_required
def campaign(seller_id: int, campaign_id: str):
    seller, chosen, profiles, info = _entity(seller_id, campaign_id)
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


# Posted to the page's own URL, so a page re-rendered with an error keeps working links (they reuse the URL).
@bp.post("/sellers/<int:seller_id>/campaigns/<campaign_id>")
@login_required
def campaign_settings(seller_id: int, campaign_id: str):
    """Set (or clear, back to the seller's settings) the target ACoS and objective the bid engine uses for this
    campaign."""
    seller, chosen, profiles, info = _entity(seller_id, campaign_id)
    P.require(P.SELLER_SETTINGS, seller)
    old = campaign_settings_service.own(seller, chosen.profile_id, info.campaign_id)
    raw = request.form.get("target_acos", "").strip()
    try:
        acos = None if request.form.get("action") == "clear" else campaign_settings_service.parse_target_acos(raw)
        objective = (campaign_settings_service.parse_objective(request.form["objective"])
                     if "objective" in request.form else old.objective)
    except settings_registry.SettingError as exc:
        flash(str(exc), "error")
        return _campaign_page(seller, chosen, profiles, info, status=400, typed=raw)
    new = campaign_settings_service.Own(acos, objective)
    if campaign_settings_service.set_own(seller, chosen.profile_id, info.campaign_id, new, current_user):
        db.session.commit()
        said = []
        if new.target_acos != old.target_acos:
            said.append(f"Target ACoS of this campaign: {campaign_settings_service.percent_text(acos)} %."
                        if acos is not None else "This campaign follows the seller's target ACoS again.")
        if new.objective != old.objective:
            said.append(f"Objective of this campaign: {objective}." if objective is not None
                        else "This campaign follows the seller's objective again.")
        flash(" ".join(said), "success")
    else:
        flash("Nothing changed.", "success")
    kept = {k: v for k, v in request.args.items() if k in ("profile", "range", "from", "to")}
    return redirect(url_for("dashboard.campaign", seller_id=seller.id, campaign_id=info.campaign_id, **kept), 303)


def _entity(seller_id: int, entity_id: str, lookup=queries.campaign):
    """Seller, profile, the seller's profiles and the campaign (or what `lookup` finds), or 404 (foreign,
    unknown or malformed ids)."""
    entity_id = amazon_id(entity_id)
    seller, chosen, profiles = _seller_profile(seller_id)
    info = lookup(seller.id, chosen.profile_id, entity_id)
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
    own = campaign_settings_service.own(seller, chosen.profile_id, campaign_id)
    acos = {"own": own.target_acos is not None,
            "seller": campaign_settings_service.percent_text(Decimal(settings_registry.get("target_acos", seller.id))),
            "value": campaign_settings_service.percent_text(own.target_acos) if own.target_acos is not None else None,
            "objective": own.objective, "seller_objective": settings_registry.get("bid_objective", seller.id),
            "objectives": settings_registry.DEFINITIONS["bid_objective"].choices}
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
        chart=charts.to_json(charts.daily_trend({currency: days}, info.name))), status


@bp.get("/sellers/<int:seller_id>/targets/<target_id>")
@login_required
def target(seller_id: int, target_id: str):
    seller, chosen, profiles, info = _entity(seller_id, target_id, queries.target)
    target_id = info.target_id
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
        measured=history.last_measured(seller.id, chosen.profile_id, target_id),
        totals=sum((d.metrics for d in days), Metrics()),
        campaign_name=queries.campaign_names(chosen.profile_id, [info.campaign_id]).get(info.campaign_id),
        chart=charts.to_json(charts.bid_history(days, changes, currency, info.text, chosen.timezone)))


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
