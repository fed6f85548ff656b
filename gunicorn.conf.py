"""gunicorn settings for the Procfile's web process (gunicorn also reads this file by default from here)."""

from gunicorn.http import wsgi

# gunicorn writes `Server: gunicorn` itself, before the app's headers; the app cannot take it out, so the
# response line is built without it here: the server does not name itself to every client.
_default_headers = wsgi.Response.default_headers


def _without_server_header(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_header
