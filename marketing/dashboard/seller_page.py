"""What the seller page shows for one managed profile and period, or which empty state applies."""

from __future__ import annotations

from marketing import charts
from marketing.dashboard import periods, queries
from marketing.dashboard.metrics import Comparison, Metrics
from marketing.models import AdsProfile, Seller

_WAITING = ("queued", "running")  # a first sync still under way


def seller_view(seller: Seller, profiles: list[AdsProfile], chosen: AdsProfile | None, when: periods.Period,
                period_message: str | None, asked: queries.Listing) -> dict:
    """The page's figures, chart and campaign table for `chosen` over `when` (`empty` names the empty state)."""
    view = {"period": when, "period_message": period_message, "profiles": profiles, "profile": chosen,
            "presets": periods.PRESETS, "last_sync": queries.latest_sync_runs([seller.id]).get(seller.id)}
    ads = seller.connection("ads")
    if chosen is None:
        view["empty"] = "connect" if ads is None or not ads.connected else "choose_profiles"
        return view
    key = (seller.id, chosen.currency_code)
    current = queries.totals([seller.id], when, chosen.profile_id).get(key, Metrics())
    previous = queries.totals([seller.id], when.previous(), chosen.profile_id).get(key, Metrics())
    days = queries.daily([seller.id], when, chosen.profile_id).get(chosen.currency_code)
    table = queries.campaigns(chosen.profile_id, when, asked)
    if days is None and not table.total:
        sync = view["last_sync"]
        view["empty"] = "first_sync" if sync is None or sync.status in _WAITING else "no_data"
    view.update(
        comparison=Comparison(current, previous), campaigns=table, listing=asked,
        states=queries.campaign_states(chosen.profile_id),
        chart=charts.to_json(charts.daily_trend(
            {chosen.currency_code: days or [(d, Metrics()) for d in when.dates()]},
            f"{seller.name} · {chosen.country_code}")),
    )
    return view
