"""plotly.js served from the installed plotly package under a versioned URL (no CDN, cacheable for a year)."""

from __future__ import annotations

from pathlib import Path

import plotly
from flask import Blueprint, abort, send_from_directory
from plotly.offline import get_plotlyjs_version

bp = Blueprint("vendor", __name__)
PLOTLY_VERSION = get_plotlyjs_version()
_BUNDLE_DIR = Path(plotly.__file__).parent / "package_data"


@bp.get("/vendor/plotly-<version>.min.js")
def plotly_js(version: str):
    """Only the installed version exists; its URL changes with the package, so it may be cached forever."""
    if version != PLOTLY_VERSION:
        abort(404)
    response = send_from_directory(_BUNDLE_DIR, "plotly.min.js", max_age=365 * 24 * 3600,
                                   mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
