"""The web app: `create_app` (app.py), the SPARQL endpoint (sparql/), the
pages (pages/), /healthz (health.py), gunicorn (serve.py), templates/ and
static/."""

from server.web.app import create_app

__all__ = ["create_app"]
