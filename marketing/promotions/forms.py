"""What people type on the Promotions pages (Flask-WTF): an edit before approving, Amazon's id when marking a
plan entered, and a promotion fee row on the admin page. Amounts are read by `marketing.numbers`; the rules of a
promotion itself are `plans.check`'s."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from marketing.amazon.hosts import MARKETPLACES
from marketing.models.base import MONEY_PLACES
from marketing.models.promotions import PromotionType
from marketing.numbers import BadNumber, parse_decimal
from marketing.promotions.plans import Terms

MAX_AMOUNT = Decimal(10**9)


def _number(field, *, label: str, places: int = MONEY_PLACES, maximum: Decimal = MAX_AMOUNT, affixes: str = ""
            ) -> Decimal | None:
    try:
        return parse_decimal(field.data, places=places, minimum=Decimal(0), maximum=maximum, label=label,
                             affixes=affixes)
    except BadNumber as exc:
        message = str(exc)
        raise ValidationError(message if message.startswith(label) else f"{label}: {message}") from None


class ApproveForm(FlaskForm):
    """A suggestion's terms as the reviewer leaves or edits them."""

    discount = StringField("Discount", validators=[DataRequired("Enter a discount.")])
    start = DateField("Start", validators=[DataRequired("Enter a start date (YYYY-MM-DD).")])
    end = DateField("End", validators=[DataRequired("Enter an end date (YYYY-MM-DD).")])
    budget = StringField("Budget", validators=[Optional()])

    def validate_discount(self, field):
        _number(field, label="Discount", places=2, affixes="%")

    def validate_budget(self, field):
        _number(field, label="Budget")

    def terms(self) -> Terms:
        budget = _number(self.budget, label="Budget") if self.budget.data else None
        return Terms(_number(self.discount, label="Discount", places=2, affixes="%"), self.start.data, self.end.data,
                     budget)

    def errors_text(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]


class EnteredForm(FlaskForm):
    amazon_id = StringField("Amazon's id (optional)", validators=[Optional(), Length(max=64)])


class FeeForm(FlaskForm):
    """One `PromotionFee` row: what Amazon charges for a type in a marketplace from a date on."""

    marketplace_id = SelectField("Marketplace", choices=[
        SelectChoice(m.marketplace_id, f"{m.country_code} ({m.currency})") for m in MARKETPLACES])
    type = SelectField("Type", choices=[
        SelectChoice(t.value, t.value.replace("_", " ").title()) for t in PromotionType])
    effective_from = DateField("From", validators=[DataRequired("Enter the date the fee applies from.")])
    fixed = StringField("Fixed per promotion", default="0")
    per_day = StringField("Per day", default="0")
    per_redemption = StringField("Per redemption", default="0")
    variable_pct = StringField("% of promotion sales", default="0")
    variable_cap = StringField("Cap of the % part", validators=[Optional()])
    note = StringField("Source or note", validators=[Optional(), Length(max=500)])

    def validate_fixed(self, field):
        _number(field, label="Fixed per promotion")

    def validate_per_day(self, field):
        _number(field, label="Per day")

    def validate_per_redemption(self, field):
        _number(field, label="Per redemption")

    def validate_variable_pct(self, field):
        _number(field, label="% of promotion sales", places=4, maximum=Decimal(100), affixes="%")

    def validate_variable_cap(self, field):
        _number(field, label="Cap of the % part")

    def values(self) -> dict:
        def amount(field, **kw) -> Decimal:
            return _number(field, label=field.label.text, **kw) or Decimal(0)

        return {"marketplace_id": self.marketplace_id.data, "type": self.type.data,
                "effective_from": self.effective_from.data, "fixed": amount(self.fixed),
                "per_day": amount(self.per_day), "per_redemption": amount(self.per_redemption),
                "variable_pct": amount(self.variable_pct, places=4, maximum=Decimal(100), affixes="%"),
                "variable_cap": _number(self.variable_cap, label="Cap") if self.variable_cap.data else None,
                "note": (self.note.data or "").strip() or None}
