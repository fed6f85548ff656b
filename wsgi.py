"""WSGI entry point: `gunicorn wsgi:app`."""

import sys

from marketing import create_app
from marketing.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one clear line naming the variable, not a traceback per worker
    print(f"marketing: configuration: {exc}", file=sys.stderr)
    raise SystemExit(4) from None  # gunicorn's "App failed to load": the master stops instead of respawning
