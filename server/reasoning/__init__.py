"""The OWL 2 RL engines (details in docs/reasoning.md).

- infer.py: `infer` / `infer_oxigraph`, the closure of a project, and the
  choice of engine (KOPRU_REASONER);
- fast.py: the fast engine; owlrl_engine.py: owlrl, plain or tuned;
- noise.py: the one noise filter; result.py: the one result type;
- inconsistency.py: what a consistency rule found, in owlrl's and in plain
  words; lists.py: RDF lists read as owlrl reads them;
- vocabulary.py: the built-in terms they treat specially.

Nothing here imports from server.pipeline: premises come in through
`infer.Premises`.
"""
