"""The pages: linked data for people and machines (entity documents, the
ontology and source documents, home, search, browse, views, VoID, dumps,
robots.txt and the sitemap).
What each URL does: README, "Pages and endpoints"; how: docs/architecture.md."""

from server.web.pages import (  # noqa: F401 (routes)
    routes_crawl, routes_dataset, routes_ld, routes_site, views)
from server.web.pages.blueprint import bp

__all__ = ["bp"]
