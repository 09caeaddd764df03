"""Content negotiation: the best of a list of offered media types for an
Accept header (q-values and wildcards, werkzeug's parser), memoised —
clients send the same few headers again and again."""

from __future__ import annotations

from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header


@lru_cache(maxsize=1024)
def best_match(offers: tuple[str, ...], accept_header: str | None) -> str | None:
    """The offered media type the header prefers (the first offer wins a
    tie and a bare `*/*`); the first offer when there is no header; None
    when nothing offered is acceptable."""
    if not accept_header:
        return offers[0]
    return parse_accept_header(accept_header, MIMEAccept).best_match(offers)
