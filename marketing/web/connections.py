"""Connecting a seller to Amazon from its page: OAuth consent, pasted tokens, profiles, renew, disconnect."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from marketing import audit
from marketing.amazon.errors import AmazonError
from marketing.clock import now, today
from marketing.connections import alerts, clients, oauth, replace, service
from marketing.extensions import db
from marketing.models import API_LABELS, APIS, ConnectionEvent, Notice, Seller
from marketing.models.connections import Method
from marketing.security import permissions as P
from marketing.security.crypto import SecretUnreadable
from marketing.sync import runs
from marketing.web.forms import field
from marketing.web.http import MAX_AMAZON_ID, parse_id

bp = Blueprint("connections", __name__)


def _api_or_404(api: str) -> str:
    if api not in APIS:
        abort(404)
    return api


def _manageable_seller(seller_id: int) -> Seller:
    seller = P.seller_or_404(seller_id)
    P.require(P.MANAGE_CONNECTIONS, seller)
    return seller


@bp.post("/sellers/<int:seller_id>/connections/<api>/authorize")
@login_required
def authorize(seller_id: int, api: str):
    """Answers with a page that moves on to Amazon, not a redirect: the CSP's form-action 'self' also applies to
    a form's redirects, and Amazon is not 'self'."""
    seller = _manageable_seller(seller_id)
    _api_or_404(api)
    try:
        return render_template("connections/continue.html", url=oauth.consent_url(seller, api, current_user.id))
    except clients.NotConfigured as exc:
        flash(f"Cannot connect: {exc}.", "error")
        return redirect(url_for("sellers.show", seller_id=seller.id))


@bp.get("/connections/<api>/callback")
@login_required
def callback(api: str):
    """Amazon's consent page redirects here with a code (or an error) and our one-time state."""
    _api_or_404(api)
    try:
        pending = oauth.take_state(api, request.args.get("state"), current_user.id)
    except oauth.OAuthError as exc:
        flash(str(exc), "error")
        return redirect(url_for("sellers.overview")), 303
    seller = _manageable_seller(pending.seller_id)
    back = redirect(url_for("sellers.show", seller_id=seller.id))
    if request.args.get("error"):
        reason = "You declined" if request.args["error"] == "access_denied" else "Amazon refused"
        flash(f"{reason} the {API_LABELS[api]} authorization ({request.args['error']}). Nothing was changed.",
              "error")
        return back
    code = request.args.get("code") if api == "ads" else request.args.get("spapi_oauth_code")
    if not code:
        flash("Amazon's response carried no authorization code. Nothing was changed; try again.", "error")
        return back
    partner_id = (request.args.get("selling_partner_id") or "").strip() or None
    try:
        token = service.exchange_code(seller, api, code, oauth.redirect_uri(api))
        other = replace.difference(seller, api, token, partner_id)
    except service.ConnectError as exc:
        flash(str(exc), "error")
        return back
    except AmazonError as exc:
        flash(f"Amazon did not list the new authorization's advertising profiles ({exc.code or 'error'}), so it "
              "could not be compared with this seller's. Nothing was changed; try again in a minute.", "error")
        return back
    if other is not None:
        return render_template("connections/replace.html", seller=seller, api=api, label=API_LABELS[api],
                               other=other, hold=replace.hold(seller, api, current_user.id, token, partner_id))
    return _store_authorization(seller, api, token, partner_id)


@bp.post("/sellers/<int:seller_id>/connections/<api>/replace")
@login_required
def replace_account(seller_id: int, api: str):
    """The answer to "this authorization is another Amazon account: replace the current one?"."""
    seller = _manageable_seller(seller_id)
    _api_or_404(api)
    try:
        held = replace.take(request.form.get("hold"), seller_id=seller.id, api=api, user_id=current_user.id)
    except replace.HoldExpired as exc:
        flash(str(exc), "error")
        return redirect(url_for("sellers.show", seller_id=seller.id))
    if request.form.get("action") != "replace":
        flash(f"Kept the current {API_LABELS[api]} account. Nothing was changed.", "info")
        return redirect(url_for("sellers.show", seller_id=seller.id))
    audit.record("connection.account_replaced", actor=current_user, target_type="connection",
                 target_id=f"{seller.id}/{api}", seller_id=seller.id, api=api,
                 old_selling_partner_id=seller.selling_partner_id if api == "sp" else None,
                 new_selling_partner_id=held.partner_id if api == "sp" else None)
    return _store_authorization(seller, api, held.token, held.partner_id)


def _store_authorization(seller: Seller, api: str, token: str, partner_id: str | None):
    connection = service.store_token(seller, api, token, authorized_at=now(), actor=current_user, method=Method.OAUTH)
    if api == "sp" and partner_id:
        seller.selling_partner_id = partner_id
    db.session.commit()
    if api == "ads":
        return _after_ads_connect(seller, connection)
    flash(f"{API_LABELS[api]} is connected.", "success")
    return redirect(url_for("sellers.show", seller_id=seller.id))


def _after_ads_connect(seller: Seller, connection):
    try:
        service.refresh_profiles(connection, manage_new=False)
        db.session.commit()
    except Exception as exc:  # the token is saved; profiles can be listed again from the picker
        db.session.rollback()
        flash(f"Amazon Ads is connected, but its profiles could not be listed yet ({type(exc).__name__}). "
              "Open “Choose profiles” to try again.", "error")
        return redirect(url_for("sellers.show", seller_id=seller.id))
    flash("Amazon Ads is connected. Choose the advertising profiles to manage.", "success")
    return redirect(url_for("connections.profiles", seller_id=seller.id))


@bp.route("/sellers/<int:seller_id>/connections/<api>/paste", methods=["GET", "POST"])
@login_required
def paste(seller_id: int, api: str):
    seller = _manageable_seller(seller_id)
    _api_or_404(api)
    context = {"seller": seller, "api": api, "label": API_LABELS[api], "today": today().isoformat()}
    if request.method == "GET":
        return render_template("connections/paste.html", **context, authorized_on=today().isoformat())
    authorized_on = field("authorized_on", 10) or today().isoformat()
    try:
        token = service.clean_token(request.form.get("refresh_token", "")[:4096])
        day = dt.date.fromisoformat(authorized_on)
        if day > today() or day < today() - dt.timedelta(days=service.SP_AUTHORIZATION_DAYS):
            raise service.ConnectError("The authorization date must be within the last 365 days.")
        service.prove_refresh_token(seller, api, token)
    except ValueError:
        flash("Enter the authorization date as YYYY-MM-DD.", "error")
        return render_template("connections/paste.html", **context, authorized_on=authorized_on), 400
    except service.ConnectError as exc:
        flash(str(exc), "error")
        return render_template("connections/paste.html", **context, authorized_on=authorized_on), 400
    authorized_at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC) if day != today() else now()
    connection = service.store_token(seller, api, token, authorized_at=authorized_at, actor=current_user,
                                     method=Method.PASTED)
    db.session.commit()
    if api == "ads":
        return _after_ads_connect(seller, connection)
    flash(f"{API_LABELS[api]} is connected.", "success")
    return redirect(url_for("sellers.show", seller_id=seller.id))


@bp.route("/sellers/<int:seller_id>/connections/ads/profiles", methods=["GET", "POST"])
@login_required
def profiles(seller_id: int):
    seller = _manageable_seller(seller_id)
    connection = seller.connection("ads")
    if connection is None or not connection.connected:
        abort(404)
    if request.method == "POST":
        chosen = {n for v in request.form.getlist("profile_ids") if (n := parse_id(v, MAX_AMAZON_ID)) is not None}
        service.set_managed_profiles(connection, chosen, actor=current_user)
        db.session.commit()
        runs.start_backfill(seller.id)
        flash(f"{sum(p.managed for p in connection.profiles)} profile(s) will be managed.", "success")
        return redirect(url_for("sellers.show", seller_id=seller.id))
    if request.args.get("refresh") or not connection.profiles:
        try:
            service.refresh_profiles(connection, manage_new=False)
            db.session.commit()
        except Exception as exc:  # shown to the user; the stored profiles stay as they were
            db.session.rollback()
            flash(f"Amazon's profile list could not be loaded ({type(exc).__name__}: {exc}).", "error")
    return render_template("connections/profiles.html", seller=seller, connection=connection)


@bp.route("/sellers/<int:seller_id>/connections/<api>/disconnect", methods=["GET", "POST"])
@login_required
def disconnect(seller_id: int, api: str):
    seller = _manageable_seller(seller_id)
    _api_or_404(api)
    if request.method == "GET":
        return render_template("connections/disconnect.html", seller=seller, api=api, label=API_LABELS[api])
    if service.disconnect(seller, api, actor=current_user):
        db.session.commit()
        flash(f"{API_LABELS[api]} was disconnected; the stored token is erased.", "success")
    else:
        flash(f"{API_LABELS[api]} was not connected.", "info")
    return redirect(url_for("sellers.show", seller_id=seller.id))


@bp.post("/sellers/<int:seller_id>/connections/<api>/check")
@login_required
def check(seller_id: int, api: str):
    seller = _manageable_seller(seller_id)
    connection = seller.connection(_api_or_404(api))
    if connection is None or not connection.connected:
        abort(404)
    try:
        result = service.check(connection)
    except (clients.NotConfigured, SecretUnreadable) as exc:
        flash(f"{exc}.", "error")
        return redirect(url_for("sellers.show", seller_id=seller.id))
    db.session.commit()
    if alerts.is_raised(f"invalid-client-{api}"):
        flash(f"{alerts.invalid_client(api)} The authorization could not be checked; the seller's status is "
              "unchanged.", "error")
        return redirect(url_for("sellers.show", seller_id=seller.id))
    flash(f"{API_LABELS[api]}: {result.label}{' (Amazon is having trouble)' if result.degraded else ''}.",
          "success" if result.usable and not result.degraded else "error")
    return redirect(url_for("sellers.show", seller_id=seller.id))


@bp.get("/sellers/<int:seller_id>/connections/history")
@login_required
def history(seller_id: int):
    seller = P.seller_or_404(seller_id)
    events = db.session.scalars(select(ConnectionEvent).where(ConnectionEvent.seller_id == seller.id)
                                .order_by(ConnectionEvent.at.desc(), ConnectionEvent.id.desc())).all()
    return render_template("connections/history.html", seller=seller, events=events, labels=API_LABELS)


@bp.get("/notices")
@login_required
def notices():
    rows = db.session.scalars(select(Notice).where(Notice.user_id == current_user.id)
                              .order_by(Notice.created_at.desc()).limit(200)).all()
    return render_template("connections/notices.html", notices=rows)


@bp.post("/notices/read")
@login_required
def mark_read():
    for notice in db.session.scalars(select(Notice).where(Notice.user_id == current_user.id,
                                                         Notice.read_at.is_(None))):
        notice.read_at = now()
    db.session.commit()
    return redirect(url_for("connections.notices"))
