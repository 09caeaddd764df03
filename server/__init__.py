"""Köprü: a linked-data knowledge graph server.

The package holds the build pipeline (project → parse → validate → infer →
store), the CLI, and the Flask application. Importing the package is cheap:
heavy libraries (rdflib, pyshacl, owlrl) are imported lazily by the modules
that need them.
"""

__version__ = "0.1.0"
