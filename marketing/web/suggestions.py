"""The suggestions review page: filter, sort and page in SQL, edit, approve or reject (the ticked rows, or all
that match the filters: a job beyond `bulk.INLINE`), group by campaign, send to Amazon, undo.

The URL and its query parameters are a contract (the weekly email links here): see `suggestions.queries`.
Everyone who may see the seller sees the page; only ACT_ON_SUGGESTIONS gets controls, and every POST checks
it again (403 otherwise). A decision on a form that was loaded before a newer run (or another reviewer)
changed the suggestion is refused with a message instead of acting on what the reviewer did not see.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketing import settings_registry
from marketing.bids import apply, history, rules, suggest
from marketing.extensions import db
from marketing.models import Seller
from marketing.models.suggestions import Direction, Kind, RunStatus, Trigger
from marketing.numbers import BadNumber, parse_decimal
from marketing.security import permissions as P
from marketing.settings_registry import Group
from marketing.suggestions import bulk, lifecycle, queries
from marketing.web.http import MAX_AMAZON_ID, MAX_PAGE, parse_id
from marketing.web.redirects import safe_next

bp = Blueprint("suggestions", __name__)
KIND = Kind.BID


@bp.app_context_processor
def _lifecycle() -> dict:
    """Templates ask the lifecycle (`lifecycle.can_approve(s.status)`, `lifecycle.Status`) instead of repeating
    its rules, and name statuses by their enums."""
    return {"lifecycle": lifecycle, "RunStatus": RunStatus, "Direction": Direction}



def _filters(args=None) -> tuple[queries.Filters, str | None]:
    """The filters in the query string (or in a form repeating them, `args`), and a message for a mistyped
    number, which is then left out (the page still shows)."""
    args = request.args if args is None else args
    problem = None
    try:
        min_change = parse_decimal(args.get("min_change"), places=2, example="20", minimum=Decimal(0),
                                   label="Change at least", affixes="%")
    except BadNumber as exc:
        min_change, problem = None, str(exc)
    per_page = parse_id(args.get("per_page"))
    return queries.Filters(
        kind=args.get("kind") if args.get("kind") in set(Kind) else None,
        status=args.get("status") if args.get("status") in set(lifecycle.Status) else lifecycle.PENDING,
        campaign_id=parse_id(args.get("campaign"), MAX_AMAZON_ID),
        reason=(args.get("reason") or "").strip()[:48] or None,
        direction=args.get("direction") if args.get("direction") in set(Direction) else None,
        min_change_pct=min_change,
        sort=args.get("sort") if args.get("sort") in queries.SORTS else "change",
        page=min(parse_id(args.get("page")) or 1, MAX_PAGE) or 1,
        per_page=per_page if per_page in queries.PER_PAGE_CHOICES else queries.PER_PAGE,
    ), problem


def _render(seller: Seller, status: int = 200, edits: dict | None = None, selected: set[int] | None = None,
            typed: dict | None = None):
    filters, problem = _filters()
    if problem:
        flash(problem, "error")
    settings = settings_registry.group(Group.BIDS)
    values = {k: settings[k].dump(v) for k, v in rules.guardrails(seller.id).items()}
    by_campaign = request.args.get("view") == "campaigns"
    groups, group_total = queries.campaign_groups(seller.id, filters) if by_campaign else ([], 0)
    summary = queries.summary(seller.id, filters)
    page = None if by_campaign else queries.review_page(seller.id, filters, summary.matched)
    bulk_job = bulk.bulk_status(seller.id, request.args.get("bulk"))
    sending = queries.apply_progress(seller.id)
    html = render_template(
        "suggestions/index.html", seller=seller, filters=filters, facets=summary,
        page=page, groups=groups, group_total=group_total, by_campaign=by_campaign,
        campaign_names=queries.campaign_names(seller.id, [s.campaign_id for s in page.items] if page else
                                              [filters.campaign_id]),
        totals=summary.totals, run=queries.latest_run(seller.id, KIND),
        last_changes=history.last_measured_many(seller.id, [(s.profile_id, s.entity_id) for s in page.items]
                                                if page else []),
        approved_bids=queries.count(seller.id, KIND, lifecycle.APPROVED),
        bulk_job=bulk_job, sending=sending, sorts=queries.SORTS, per_page_choices=queries.PER_PAGE_CHOICES,
        paused=rules.writes_paused(seller.id), edits=edits or {}, selected=selected or set(),
        can_act=P.can(current_user, P.ACT_ON_SUGGESTIONS, seller),
        can_configure=P.can(current_user, P.SELLER_SETTINGS, seller),
        settings=settings, values={**values, **(typed or {})},
    )
    # While a bulk decision or a send is under way the page reloads itself to show progress (no script needed).
    running = (bulk_job is not None and bulk_job.running) or sending is not None
    return html, status, {"Refresh": "2"} if running else {}


def _back(seller: Seller):
    return redirect(safe_next(request.form.get("back")) or url_for("suggestions.index", seller_id=seller.id), 303)


@bp.get("/sellers/<int:seller_id>/suggestions")
@login_required
def index(seller_id: int):
    seller = P.seller_or_404(seller_id)
    campaign = request.args.get("campaign")
    if campaign and not queries.is_sellers_campaign(seller.id, parse_id(campaign, MAX_AMAZON_ID) or 0):
        abort(404)  # another seller's campaign id answers like another seller's page
    return _render(seller)


@bp.post("/sellers/<int:seller_id>/suggestions/decide")
@login_required
def decide(seller_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    action = request.form.get("action")
    if request.form.get("scope") == "matching" and action in bulk.ACTIONS:
        return _decide_matching(seller, action)
    ids = [n for i in request.form.getlist("ids") if (n := parse_id(i)) is not None]
    edits = {n: v for k, v in request.form.items() if k.startswith("bid-") and (n := parse_id(k[4:])) is not None}
    if action not in ("approve", "reject") or not ids:
        flash("Select at least one suggestion, then approve or reject.", "error")
        return _render(seller, 400, edits, set(ids))
    chosen = lifecycle.for_seller(seller.id, ids)
    errors, done, already = [], 0, []
    for suggestion in chosen:
        try:
            if action == "reject":
                changed = lifecycle.reject(suggestion, actor=current_user)
            else:
                value = None
                raw = edits.get(suggestion.id, "").strip()
                if raw and raw != str(suggestion.proposed_value):
                    market = rules.profile_marketplace(seller.id, suggestion.profile_id)
                    value = rules.parse_bid(raw, market, seller.id)
                changed = lifecycle.approve(suggestion, actor=current_user, value=value)
        except (lifecycle.NotAllowed, rules.BadBid) as exc:
            errors.append(f"{suggestion.label or suggestion.entity_id}: {exc}")
            continue
        if changed:
            done += 1
        else:
            already.append(suggestion)
    if errors:  # nothing is saved, the typed values stay on the page
        db.session.rollback()
        for message in errors:
            flash(message, "error")
        flash("Nothing was saved; correct the rows above and submit again.", "error")
        return _render(seller, 400, edits, set(ids))
    db.session.commit()
    verb = "approved" if action == "approve" else "rejected"
    message = f"{done} suggestion{'s' if done != 1 else ''} {verb}."
    if gone := len(set(ids)) - len(chosen):  # deleted by a newer run while the page was open
        message += f" {gone} {'were' if gone != 1 else 'was'} replaced by a newer run meanwhile; reload the page."
    if already:  # a double click, or another reviewer at the same moment: say who decided
        by = ", ".join(sorted({s.decided_by for s in already if s.decided_by}))
        message += f" {len(already)} already were" + (f" (by {by})." if by else ".")
    if action == "approve" and request.form.get("send") == "1" and (done or already):
        # Approved where the marketer looks at one keyword (the campaign page, `send=1`): it goes to Amazon at
        # once, as "Send approved bids" would send it; nobody expects a second step there.
        _send(seller, f"{message} Sending to Amazon; the row shows the outcome when it is done.",
              lambda paused: f"{message} Not sent: {paused[0].lower()}{paused[1:]}")
        return _back(seller)
    if action == "approve" and done:
        message += " Send them to Amazon with “Send approved bids”."
    flash(message, "success")
    return _back(seller)


def _decide_matching(seller: Seller, action: str):
    """"All N matching": the ids matching the form's filters now; up to `bulk.INLINE` decided at once, more by a
    job whose progress the page shows (`bulk=<job id>`)."""
    filters, _ = _filters(request.form)
    ids = queries.matching_ids(seller.id, filters)
    if not ids:
        flash("No suggestions match these filters any more; nothing was changed.", "error")
        return _back(seller)
    if len(ids) <= bulk.INLINE:
        flash(bulk.decide(seller.id, ids, action, current_user).summary, "success")
        return _back(seller)
    job = bulk.enqueue(seller.id, ids, action, current_user._get_current_object())
    flash(f"{'Approving' if action == 'approve' else 'Rejecting'} {len(ids):,} suggestions in the background.",
          "success")
    return redirect(url_for("suggestions.index", seller_id=seller.id, **filters.args(page=1), bulk=job.id), 303)


def _send(seller: Seller, sent: str, not_sent) -> None:
    """Queue sending the seller's approved changes and say so, or say why not (paused writes win);
    `not_sent(reason)` words the refusal."""
    paused = rules.writes_paused(seller.id)
    if paused:
        flash(not_sent(paused), "error")
    else:
        apply.enqueue(seller.id)
        flash(sent, "success")


@bp.post("/sellers/<int:seller_id>/suggestions/apply")
@login_required
def send(seller_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    _send(seller, "Approved bids are being sent to Amazon; each row shows the outcome when it is done.",
          lambda paused: f"{paused} Nothing was sent.")
    return _back(seller)


@bp.post("/sellers/<int:seller_id>/suggestions/<int:suggestion_id>/undo")
@login_required
def undo(seller_id: int, suggestion_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    found = lifecycle.for_seller(seller.id, [suggestion_id])
    if not found:
        flash("That suggestion does not exist (any more).", "error")
        return _back(seller)
    try:
        lifecycle.request_undo(found[0], actor=current_user)
    except lifecycle.NotAllowed as exc:
        flash(str(exc), "error")
        return _back(seller)
    db.session.commit()
    _send(seller, f"Putting the previous bid ({found[0].previous_value}) back on Amazon.",
          lambda paused: f"Undo queued, but {paused[0].lower()}{paused[1:]}")
    return _back(seller)


@bp.post("/sellers/<int:seller_id>/suggestions/run")
@login_required
def run(seller_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    suggest.enqueue(seller.id, trigger=Trigger.MANUAL)
    flash("New bid suggestions are being computed; reload in a moment.", "success")
    return _back(seller)


@bp.post("/sellers/<int:seller_id>/suggestions/settings")
@login_required
def save_settings(seller_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.SELLER_SETTINGS, seller)
    keys = settings_registry.group(Group.BIDS)
    errors = settings_registry.save_form(request.form, keys, actor=current_user, seller_id=seller.id)
    if errors:
        db.session.rollback()
        for message in errors:
            flash(message, "error")
        return _render(seller, 400, typed={k: request.form.getlist(k)[-1] for k in keys if k in request.form})
    db.session.commit()
    flash("Bid settings saved.", "success")
    return _back(seller)
