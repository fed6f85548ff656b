"""The weekly summary as an email: HTML with the CSS inlined (≤ `MAX_HTML_BYTES`) and the same content as
plain text, with the one-click unsubscribe headers."""

from __future__ import annotations

import re
from email.message import EmailMessage

import css_inline
from flask import current_app, render_template
from markupsafe import Markup

from marketing import formatting
from marketing.digest.build import Digest, SellerWeek
from marketing.mail import compose

MAX_HTML_BYTES = 100 * 1024  # Gmail clips longer messages
_INLINER = css_inline.CSSInliner(minify_css=True, load_remote_stylesheets=False)
_BLANK_LINES = re.compile(r"\n\s*\n")
_CLASSES = re.compile(r' class="[^"]*"')
KPIS = (("Spend", "cost", "money"), ("Ad sales", "sales", "money"), ("ACoS", "acos", "percent"),
        ("ROAS", "roas", "roas"), ("TACoS", "tacos", "percent"), ("Orders", "orders", "count"))


def _fmt(value, kind: str, currency: str) -> str:
    if kind == "money":
        return formatting.money(value, currency)
    return getattr(formatting, kind)(value)


_SECTIONS: dict[tuple, str] = {}  # (part, seller, figures version, base URL) → rendered section
_SECTIONS_KEPT = 2000


def _section(part: str, seller: SellerWeek) -> str:
    """A seller's full section, rendered once per stored figures and reused for every recipient (the same
    seller appears in many users' emails); uncached when the figures were not stored."""
    key = (part, seller.id, seller.version, current_app.config.get("PUBLIC_URL"))
    if key not in _SECTIONS or not seller.version:
        if len(_SECTIONS) >= _SECTIONS_KEPT:
            _SECTIONS.clear()
        _SECTIONS[key] = render_template(f"email/_seller.{part}", s=seller, kpis=KPIS, fmt=_fmt)
    return Markup(_SECTIONS[key]) if part == "html" else _SECTIONS[key]  # noqa: S704 - autoescaped output


def _context(digest: Digest, part: str) -> dict:
    return {"d": digest, "kpis": KPIS, "fmt": _fmt, "section": lambda seller: _section(part, seller)}


def html(digest: Digest) -> str:
    """Inlined HTML; sellers move from full sections to one line each until it fits the size limit."""
    while True:
        inlined = _INLINER.inline(render_template("email/weekly.html", **_context(digest, "html")))
        page = _CLASSES.sub("", _BLANK_LINES.sub("\n", inlined))  # classes served the inliner only
        if len(page.encode()) <= MAX_HTML_BYTES or not digest.full:
            return page
        digest.brief.insert(0, digest.full.pop())


def text(digest: Digest) -> str:
    return render_template("email/weekly.txt", **_context(digest, "txt"))


def message(digest: Digest) -> EmailMessage:
    page = html(digest)  # first: it may move sellers to one-line entries, and the text part must agree
    return compose.message(digest.email, digest.subject, text(digest), page, digest.unsubscribe_url)
