"""The pages blueprint: linked data for people and machines.

    /id/<slug>                 entity IRI: 303 See Other to a document below
    /id/<slug>.html|.ttl|.jsonld|.nt|.rdf   the entity's documents
    /source/article[.ext]      the source document with its sentences (#S21)
    /ontology[.ext]            the ontology as a document (#Term anchors)
    /                          home: what the dataset is, figures, entry points
    /search?q=                 label search (HTML, or JSON by Accept)
    /browse, /browse/<class>   browse by class, with paging
    /.well-known/void          VoID + DCAT description (Turtle, …)
    /dumps/<name>              full and asserted-only dumps (gzip when accepted)
    /timeline, /trade, /map    views as server-rendered SVG (views.py, svg.py)
    /id/<slug>/network         an entity's neighbourhood as SVG

Modules: store.py (the store handle), data.py (all SPARQL), labels.py
(reader's language), render.py (value wording), formats.py (RDF formats and
negotiation), entity.py (entity view model), ontology_docs.py (ontology
view model), and the routes in routes_ld.py, routes_site.py, routes_dataset.py.
"""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from server.web.pages import routes_dataset, routes_ld, routes_site, views  # noqa: E402,F401

__all__ = ["bp"]
