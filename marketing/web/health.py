"""`/healthz`: the database and Redis answer, for load balancers and `marketing demo --check`.

Exempt from the production HTTPS redirect: probes usually call the app over plain HTTP inside the network,
and a 302 would read as healthy (or as failing) without checking anything.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from marketing import jobs
from marketing.extensions import db, limiter, talisman

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@talisman(force_https=False)
@limiter.exempt
def healthz():
    status = {}
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = "ok"
    except Exception as exc:
        status["database"] = f"error: {type(exc).__name__}"
    finally:
        db.session.rollback()
    try:
        jobs.connection().ping()
        status["redis"] = "ok"
    except Exception as exc:
        status["redis"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in status.values())
    return jsonify(status), 200 if healthy else 503
