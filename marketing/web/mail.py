"""Email pages: a user's preferences and preview, the unsubscribe link, and for admins the outbox, the send
log, each user's preferences (reset) and "send now"."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from marketing import audit
from marketing.digest import preferences, render, weekly, weeks
from marketing.extensions import csrf, db
from marketing.mail import compose, outbox, transport
from marketing.models import EmailPreference, EmailSend, User
from marketing.models.email import WEEKDAYS
from marketing.security import permissions as P

bp = Blueprint("mail", __name__)


class PreferencesForm(FlaskForm):
    weekly = BooleanField("Weekly summary")
    alerts = BooleanField("Alerts by email (authorizations, failed syncs)")
    weekday = SelectField("Day", coerce=int, choices=[SelectChoice(i, day) for i, day in enumerate(WEEKDAYS)])
    hour = SelectField("Hour", coerce=int, choices=[SelectChoice(h, f"{h:02d}:00") for h in range(24)])
    timezone = StringField("Time zone", validators=[Optional()])
    all_sellers = BooleanField("Every seller I can see (also ones assigned later)")
    sellers = SelectMultipleField("Only these sellers", coerce=int, option_widget=CheckboxInput(),
                                  widget=ListWidget(prefix_label=False))

    def validate_timezone(self, field):
        value = (field.data or "").strip()
        if value and not weeks.valid_zone(value):
            raise ValidationError(f"“{value[:64]}” is not a time zone; use a name like Europe/Berlin.")

    def validate_sellers(self, field):
        if not self.all_sellers.data and not field.data:
            raise ValidationError("Choose at least one seller, or every seller.")


@bp.app_context_processor
def _email_globals() -> dict:
    """For the admin Jobs page: failed and undetermined emails, with the server's words."""
    def email_problems(limit: int = 20):
        return db.session.scalars(select(EmailSend).where(EmailSend.state.in_(("failed", "unknown")))
                                  .order_by(EmailSend.updated_at.desc()).limit(limit)).all()

    return {"email_problems": email_problems}


@bp.route("/account/email", methods=["GET", "POST"], endpoint="preferences")
@login_required
def preferences_page():
    user = current_user._get_current_object()
    pref = preferences.get(user.id)
    visible = preferences.visible_sellers(user)
    form = PreferencesForm(obj=pref)
    form.sellers.choices = [SelectChoice(s.id, s.name) for s in visible]
    if request.method == "GET":
        form.all_sellers.data = pref.seller_ids is None
        form.sellers.data = pref.seller_ids or []
    elif form.validate_on_submit():
        row = preferences.stored(user.id)
        row.weekly, row.alerts = form.weekly.data, form.alerts.data
        row.weekday, row.hour = form.weekday.data, form.hour.data
        row.timezone = (form.timezone.data or "").strip() or None
        row.seller_ids = None if form.all_sellers.data else sorted(set(form.sellers.data))
        audit.record("email.preferences", target_type="user", target_id=user.id)
        db.session.commit()
        flash("Email preferences saved.", "success")
        return redirect(url_for("mail.preferences"))
    else:
        return _preferences(form, pref, user), 400
    return _preferences(form, pref, user)


def _preferences(form, pref, user):
    return render_template("email/preferences.html", form=form, pref=pref, off=transport.off_reason(),
                           week=weekly.current_week(pref))


@bp.get("/account/email/preview")
@login_required
def preview():
    """This week's summary as it would be sent now: the plain part here, the HTML part one link away."""
    user = current_user._get_current_object()
    week, error = _week_arg()
    digest = weekly.digest_for(user, week)
    page = render.html(digest)  # first: it decides which sellers get full sections, and the text part follows
    if request.args.get("part") == "html":
        return Response(page, mimetype="text/html")
    return render_template("email/preview.html", digest=digest, text=render.text(digest),
                           html_bytes=len(page.encode()), error=error, off=transport.off_reason())


def _week_arg() -> tuple[weeks.Week | None, str | None]:
    raw = request.args.get("week")
    if not raw:
        return None, None
    try:
        return weeks.parse(raw), None
    except ValueError as exc:
        return None, f"{exc}; showing the last complete week."


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """GET only shows a confirmation (mail scanners follow links); POST unsubscribes (RFC 8058 one-click)."""
    parsed = compose.read_unsubscribe_token(token)
    user = db.session.get(User, parsed[0]) if parsed else None
    if user is None:
        return render_template("email/unsubscribe.html", invalid=True), 400
    list_name = parsed[1]
    label = compose.LISTS[list_name]
    if request.method == "GET":
        subscribed = getattr(preferences.get(user.id), list_name)
        return render_template("email/unsubscribe.html", label=label, email=user.email, subscribed=subscribed)
    changed = preferences.set_list(user.id, list_name, False)
    if changed:
        audit.record("email.unsubscribed", actor=user, target_type="user", target_id=user.id, list=list_name)
    db.session.commit()
    return render_template("email/unsubscribe.html", label=label, email=user.email, done=True, changed=changed)


# --- admins ---------------------------------------------------------------------------------------------------

def _admin() -> None:
    P.require(P.ADMINISTER)


@bp.get("/admin/email")
@login_required
def admin_index():
    _admin()
    users = db.session.execute(select(User, EmailPreference).outerjoin(EmailPreference,
                               EmailPreference.user_id == User.id).order_by(User.email)).all()
    sends = db.session.scalars(select(EmailSend).order_by(EmailSend.id.desc()).limit(100)).all()
    return render_template("email/admin.html", users=users, sends=sends, mode=transport.mode(),
                           off=transport.off_reason(), weekdays=WEEKDAYS)


@bp.post("/admin/email/users/<int:user_id>/reset")
@login_required
def admin_reset(user_id: int):
    _admin()
    target = db.session.get(User, user_id) or abort(404)
    preferences.reset(target.id)
    audit.record("email.preferences_reset", target_type="user", target_id=target.id)
    db.session.commit()
    flash(f"Email preferences of {target.email} are back to the defaults.", "success")
    return redirect(url_for("mail.admin_index"))


@bp.post("/admin/email/users/<int:user_id>/send")
@login_required
def admin_send(user_id: int):
    """Send this week's summary now (once per week: a user who already has it is told so)."""
    _admin()
    target = db.session.get(User, user_id) or abort(404)
    if transport.off_reason():
        flash(transport.off_reason(), "error")
        return redirect(url_for("mail.admin_index"))
    week = weekly.current_week(preferences.get(target.id))
    outcome = weekly.send_to(target.id, week)
    audit.record("email.sent_now", target_type="user", target_id=target.id, week=week.label, outcome=outcome)
    db.session.commit()
    messages = {"sent": ("success", f"The summary of {week.label} was sent to {target.email}."),
                "skipped": ("info", f"Nothing sent: {target.email} already has the summary of {week.label}, has it "
                                    "switched off, or sees no seller."),
                "retrying": ("error", "The mail server asked to try later; a retry is scheduled."),
                "failed": ("error", "The mail server refused the email; see the send log below.")}
    category, text = messages.get(outcome, ("info", outcome))
    flash(text, category)
    return redirect(url_for("mail.admin_index"))


@bp.get("/admin/email/outbox")
@login_required
def admin_outbox():
    _admin()
    return render_template("email/outbox.html", entries=outbox.entries(), mode=transport.mode())


@bp.get("/admin/email/outbox/<name>")
@login_required
def admin_outbox_message(name: str):
    _admin()
    message = outbox.read(name) or abort(404)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    if request.args.get("part") == "html":
        if html_part is None:
            abort(404)
        return Response(html_part.get_content(), mimetype="text/html")
    return render_template("email/outbox_message.html", name=name, message=message, has_html=html_part is not None,
                           text=text_part.get_content() if text_part is not None else "")
