"""The SPARQL 1.1 Protocol endpoint at /sparql.

    guard.py        what a query is and what it may reach (before any store sees it)
    protocol.py     reading a protocol request (GET, POST form, POST direct)
    negotiation.py  result formats and content negotiation
    results.py      result serializers used when an answer is truncated
    description.py  the SPARQL 1.1 Service Description
    endpoint.py     the Flask blueprint

This package's __init__ imports nothing heavy: the executor's child process
imports server.query.results without Flask.
"""
