"""The SPARQL 1.1 Protocol endpoint at /sparql: protocol.py reads a
request, negotiation.py picks the answer's format, description.py is the
Service Description, endpoint.py the blueprint.
"""
