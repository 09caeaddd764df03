"""The guard's cache of analyses (server/query/analysis.py): a text read
once is not read again, what it holds stays within its bytes however large
the texts an attacker sends, and a refused text is refused every time."""

from __future__ import annotations

import tracemalloc

import pytest

from server.errors import QueryRefused
from server.query import analysis


def test_a_text_read_once_is_answered_from_the_cache():
    text = "SELECT ?s WHERE { ?s ?p 'cached once' }"
    first = analysis.analyze(text)
    assert analysis.analyze(text) is first
    assert analysis.analyze(text + " ") is not first          # another text, read anew


def test_the_cache_stays_within_its_bytes_with_the_texts():
    budget = analysis.ANALYSIS_CACHE_BYTES
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(400):        # 400 texts of ~100 kB: five times the budget
            analysis.analyze(f"SELECT * {{ ?s ?p ?o }} # {i} " + "é" * 49_000
                             + f" LIMIT {i + 1}")
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert analysis.cached_bytes() <= budget
    assert held <= budget * 1.25 + (1 << 20), f"the analyses hold {held >> 20} MiB"


@pytest.mark.parametrize("text", ["INSERT DATA { <a:b> <a:c> <a:d> }",
                                  "SELECT * { ?s ?p 'never closed }"])
def test_a_refused_text_is_refused_again(text):
    for _ in range(2):
        with pytest.raises(QueryRefused):
            analysis.check(text, ())
