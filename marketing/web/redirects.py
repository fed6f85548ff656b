"""Where a page may send the browser next: the one check for every `next` and `back` value."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote, urlsplit

# Characters left as they are in the returned path; everything else (non-ASCII, quotes, spaces) is
# percent-encoded, so the Location header stays ASCII.
_URL_SAFE = "/?&=#%:@!$'()*+,;~-._"
_DROPPED = dict.fromkeys(map(ord, "\t\n\r"))  # removed anywhere in a URL by browsers (WHATWG URL)


def safe_next(raw: str | None) -> str | None:
    """A path on this site to redirect to, or None when `raw` is not one.

    The value is read the way a browser will read the Location header: it drops tabs and CR/LF anywhere and
    spaces and control characters around, and treats `\\` as `/`, so `/\\t/evil.example` is `//evil.example`
    (another host). Any other control or invisible character is refused. After that, and again after
    percent-decoding, it must be a plain path: one leading `/`, no `\\`, no scheme, no host. What is returned is
    the cleaned path, percent-encoded to ASCII, so what was checked is what is sent.
    """
    if not raw:
        return None
    cleaned = raw.translate(_DROPPED).strip("".join(map(chr, range(33))) + "\x7f \u00a0")
    if any(_invisible(ch) for ch in cleaned):
        return None
    decoded = cleaned
    for _ in range(3):  # double-encoded `%252F%252F` too
        if not _plain_path(decoded):
            return None
        decoded = unquote(decoded)
    if not _plain_path(decoded) or any(_invisible(ch) for ch in decoded):
        return None
    return quote(cleaned, safe=_URL_SAFE)


def _plain_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp")
