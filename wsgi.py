"""WSGI entry point: `gunicorn wsgi:app`."""

from marketing import create_app

app = create_app()
