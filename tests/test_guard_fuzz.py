"""The query guard against the engine, differentially: whatever the guard
lets through, the engine runs without ever reaching a host off the
allowlist. A canary listener on loopback stands for an internal service;
SERVICE calls to it are hidden in every lexical context we know of
(IRIs, strings, comments, `\\u` escapes, operators such as `<` in a FILTER,
prefixed names, keywords glued to their neighbours) and mixed at random.

`make test` draws 100 examples a property (20 through the endpoint) and
runs every piece the generator draws from at least once
(test_every_piece_of_the_generator_through_the_guard); `make fuzz-guard`
runs the same properties with many more examples (KOPRU_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os

import pyoxigraph as ox
import pytest
from attack_helpers import KNOWN_ATTACKS, Canary
from helpers import query_answer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import QueryRefused
from server.query import analysis

EXAMPLES = int(os.environ.get("KOPRU_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get(
    "KOPRU_FUZZ_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def canary():
    with Canary() as c:
        yield c


@pytest.fixture(scope="module")
def store():
    """A store with a few triples, so that every pattern has solutions and
    a SERVICE beside them is really called."""
    s = ox.Store()
    for i in range(3):
        s.add(ox.Quad(ox.NamedNode(f"http://e.org/s{i}"), ox.NamedNode("http://e.org/p"),
                      ox.Literal(str(i))))
    return s


def _engine_runs(store: ox.Store, text: str) -> None:
    """Run a query as the engine would, whatever it answers."""
    try:
        res = store.query(text)
        if not isinstance(res, ox.QueryBoolean):
            for _ in res:
                pass
    except (SyntaxError, OSError, ValueError, RuntimeError):
        pass


def _guard_then_engine(store, canary, text: str) -> None:
    """The endpoint's path: the guard (federation off), then what the guard
    hands on, as the embedded engine and as a remote Oxigraph store read it.
    The canary must never be reached."""
    before = canary.connections
    try:
        found = analysis.check(text, ())
    except QueryRefused:
        return
    guarded = getattr(found, "text", None) or text       # (the text itself before issue 9)
    _engine_runs(store, getattr(guarded, "embedded", guarded))
    _engine_runs(store, str(guarded))
    assert canary.reached() == before, f"the guard let a SERVICE through: {text!r}"


# --- the known attacks -------------------------------------------------------------------


@pytest.mark.parametrize("attack", KNOWN_ATTACKS)
def test_known_attacks_reach_the_canary_without_the_guard(store, canary, attack):
    """The attacks are real: the engine alone calls the canary."""
    text = attack.format(canary=canary.url, base=canary.base)
    before = canary.connections
    _engine_runs(store, text)
    assert canary.reached() > before


@pytest.mark.parametrize("attack", KNOWN_ATTACKS)
def test_known_attacks_never_reach_the_canary_through_the_guard(store, canary, attack):
    _guard_then_engine(store, canary, attack.format(canary=canary.url, base=canary.base))


# --- generated attacks -------------------------------------------------------------------

def _escape_some(text: str, picks: list[bool]) -> str:
    """Write some characters of `text` as \\u escapes."""
    return "".join(f"\\u{ord(c):04X}" if pick else c
                   for c, pick in zip(text, picks + [False] * len(text), strict=False))


# The pieces of a SERVICE call to the canary, spelled one of many ways.
_KEYWORDS = ["SERVICE", "service", "Service", "SERVICESILENT", "SERVICE SILENT", "\\u0053ERVICE",
             "SERVIC\\u0045"]
_SILENCES = ["", " SILENT", "SILENT "]
_GLUES = ["", " ", "\n", "\t", "#x\n"]


def _targets(target_url: str, picks: list[bool]) -> list[str]:
    return [f"<{target_url}>", f"<{_escape_some(target_url, picks)}>",
            "c:sparql", "c:sparql.", ":sparql", f"<{target_url[:7]}\\u003E{target_url[7:]}>"]


def _spell_service(keyword: str, silent: str, glue: str, target: str) -> str:
    """SILENT is added only to a keyword that does not already carry it."""
    silent = "" if "SILENT" in keyword else silent
    return f"{keyword}{silent}{glue}{target}{glue}{{ }}"


@st.composite
def _service(draw, target_url: str, base: str):
    """A SERVICE call to the canary, spelled one of many ways."""
    keyword = draw(st.sampled_from(_KEYWORDS))
    silent = draw(st.sampled_from(_SILENCES))
    picks = draw(st.lists(st.booleans(), max_size=len(target_url)))
    target = draw(st.sampled_from(_targets(target_url, picks)))
    glue = draw(st.sampled_from(_GLUES))
    return _spell_service(keyword, silent, glue, target)


# Pieces that open a context before the SERVICE and close it after: if
# guard and engine disagree on where a token ends, one of them hides it.
_WRAPPERS = [
    ("FILTER(true||1<'>') ", " BIND('' AS ?q)"),
    ("FILTER(true||1<'''>''') ", " BIND(''' ''' AS ?q)"),
    ('FILTER(true||1<">") ', ' BIND("" AS ?q)'),
    ("FILTER(true||1<a:#>)\n", ""),
    ("FILTER(true||1<a:'>') ", " BIND('' AS ?q)"),
    ("FILTER(?o<", ">0)"),
    ("BIND(<", "> AS ?q)"),
    ("?s ?p '", "' ."),
    ('?s ?p "', '" .'),
    ("?s ?p '''", "''' ."),
    ("?s ?p \"\"\"", "\"\"\" ."),
    ("?s ?p '\\u0027 ", "' ."),
    ("?s ?p \"\\u0022 ", "\" ."),
    ("# ", "\n"),
    ("#\\u000A ", "\n"),
    ("?s ?p c:a.b.", ""),
    ("?s ?p true", ""),
    ("?s ?p ?o .", ""),
    ("?s ?p <x:", "> ."),
    ("?s ?p <", "> ."),
    ("?s c:p?", " ."),
    ("OPTIONAL { ", " }"),
    ("{ ", " } UNION { }"),
    ("", ""),
]
_JUNK = ["", " ", "'", '"', "<", ">", "#", "\n", "\\", "\\u0027", "\\u0022", "\\u003C",
         "\\u003E", "\\u0023", ":", ".", "a", "(", ")", "{", "}", "?x", "c:", "SERVICE", "'''",
         '"""', "<=", "&&", "||", "1", "true"]
_FORMS = ["SELECT * WHERE", "SELECT *", "ASK", "SELECT ?s"]


def _heads(base: str) -> list[str]:
    return ["", f"PREFIX c: <{base}> ", f"PREFIXc:<{base}> ", f"BASE <{base}> PREFIX c: <{base}> "]


def _attack(head: str, form: str, wrapper: tuple[str, str], before: str, inner: str,
            after: str) -> str:
    opener, closer = wrapper
    return f"{head}{form} {{ ?s ?p ?o . {opener}{before}{inner}{after}{closer} }}"


@st.composite
def attacks(draw, target_url: str, base: str):
    head = draw(st.sampled_from(_heads(base)))
    form = draw(st.sampled_from(_FORMS))
    wrapper = draw(st.sampled_from(_WRAPPERS))
    inner = draw(_service(target_url, base))
    junk = draw(st.lists(st.sampled_from(_JUNK), max_size=4))
    at = draw(st.integers(0, 4))
    return _attack(head, form, wrapper, "".join(junk[:at]), inner, "".join(junk[at:]))


def test_every_piece_of_the_generator_through_the_guard(store, canary):
    """Each piece the generator draws from (head, form, wrapper, keyword,
    SILENT, glue, target spelling, junk before and after) at least once,
    the lists taking turns, with and without the junk: make test's few
    examples may miss a piece."""
    pieces = [_heads(canary.base), _FORMS, _WRAPPERS, _KEYWORDS, _SILENCES, _GLUES,
              _targets(canary.url, [True, False] * len(canary.url))]
    turns = max(len(_JUNK), *map(len, pieces))
    for i in range(turns):
        head, form, wrapper, keyword, silent, glue, target = (p[i % len(p)] for p in pieces)
        inner = _spell_service(keyword, silent, glue, target)
        for before, after in (("", ""), (_JUNK[i % len(_JUNK)], _JUNK[-1 - i % len(_JUNK)])):
            _guard_then_engine(store, canary, _attack(head, form, wrapper, before, inner, after))


@FUZZ
@given(data=st.data())
def test_no_generated_attack_reaches_the_canary(store, canary, data):
    text = data.draw(attacks(canary.url, canary.base))
    _guard_then_engine(store, canary, text)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("<>'\"#\\u{}()?:. \nSERVICEsilt0123aA&|!")),
                    max_size=80))
def test_no_random_text_reaches_the_canary(store, canary, text):
    """Random text around a SERVICE call: whatever the guard accepts is safe."""
    _guard_then_engine(store, canary,
                       f"PREFIX c: <{canary.base}> SELECT * {{ {text} SERVICE <{canary.url}> "
                       f"{{ }} {text} }}")


@FUZZ
@given(text=st.text(max_size=200))
def test_the_guard_reads_its_own_text_as_itself(text):
    """Whatever the guard accepts, the text it hands on reads as itself:
    guarding it again gives the same text and the same findings."""
    try:
        found = analysis.analyze(text)
    except QueryRefused:
        return
    again = analysis.analyze(str(found.text))
    assert str(again.text) == str(found.text)
    assert again.services == found.services and again.form == found.form


# --- what the guard hands on still means the query --------------------------------------


def test_the_gallery_answers_the_same_through_the_guard(built_project):
    """Every example query gives the same answer run as written and run as
    the guard hands it on."""
    from server.pipeline.gallery import load_queries
    from server.pipeline.project import Project

    root, state = built_project
    store = ox.Store.read_only(str(state / "current" / "db"))
    queries = load_queries(Project(root))
    assert queries
    for q in queries:
        found = analysis.analyze(q.text)
        direct = store.query(q.text, default_graph=[ox.NamedNode(
            "https://w3id.org/kopru/graph/asserted")])
        guarded = store.query(found.text.embedded, default_graph=[ox.NamedNode(
            "https://w3id.org/kopru/graph/asserted")])
        assert query_answer(direct) == query_answer(guarded), q.slug


@pytest.mark.parametrize("query, expected", [
    ("SELECT ?x { BIND(1 AS ?a) BIND(2 AS ?b) BIND(?a<2&&?b>1 AS ?x) }", "true"),
    ("SELECT ?x { BIND(1 AS ?a) FILTER(?a<=3) BIND('it\\'s' AS ?x) }", "it's"),
    ("SELECT ?x { BIND(\"\"\"a\n'b'\"\"\" AS ?x) }", "a\n'b'"),
    ("SELECT ?x { BIND('\\u00e9\\t' AS ?x) } # a comment", "é\t"),
    ("PREFIX e: <http://e.org/> SELECT ?x { BIND(e:a\\.b AS ?x) }", "http://e.org/a.b"),
    ("SELECT ?x { BIND(<http://e.org/\\u0061#b> AS ?x) }", "http://e.org/a#b"),
])
def test_ordinary_queries_mean_the_same(query, expected):
    found = analysis.check(query, ())
    rows = list(ox.Store().query(found.text.embedded))
    assert rows and rows[0]["x"].value == expected


def test_a_less_than_glued_to_an_absolute_iri_is_an_error_with_a_hint():
    """`?a<e:x&&?a>0` may be an IRI or less-than: the embedded engine gets
    an IRI there, which it cannot parse, and the message says what to do."""
    from server.query.canonical import syntax_message

    found = analysis.check("SELECT * { BIND(1 AS ?a) FILTER(?a<e:x&&?a>0) }", ())
    with pytest.raises(SyntaxError) as e:
        ox.Store().query(found.text.embedded)
    message = syntax_message(found.text, str(e.value))
    assert "line 1" in message and "space after it" in message, message
    # with the space, it is less-than
    found = analysis.check("PREFIX e: <http://e.org/> SELECT * { BIND(1 AS ?a) "
                           "FILTER(?a< e:x&&?a>0) }", ())
    ox.Store().query(found.text.embedded)


def test_syntax_errors_point_at_the_text_as_written():
    from server.query.canonical import syntax_message

    text = "# a comment first\nSELECT * WHERE {\n  ?s ?p ?o ?x }\n"
    found = analysis.check(text, ())
    with pytest.raises(SyntaxError) as e:
        ox.Store().query(found.text.embedded)
    message = syntax_message(found.text, str(e.value))
    assert "line 3, column 16" in message and "?s ?p ?o ?x }" in message, message


# --- through the endpoint, over an embedded store and a remote Oxigraph server ------------


@pytest.fixture(params=["embedded", pytest.param("remote", marks=pytest.mark.remote)])
def endpoint(request):
    """Köprü's endpoint (in-process) over the embedded store, and over a
    remote Oxigraph server, which would make a SERVICE call itself (and
    could read the graphs Köprü hides): (test client, that store or None)."""
    if request.param == "embedded":
        return request.getfixturevalue("app").test_client(), None
    return (request.getfixturevalue("remote_app").test_client(),
            request.getfixturevalue("shipped_oxigraph"))


def _through(endpoint, canary, queries) -> None:
    client, _ = endpoint
    before = canary.connections
    for q in queries:
        r = client.get("/sparql", query_string={"query": q})
        text = r.get_data(as_text=True)
        assert r.status_code in (200, 400, 403), (r.status_code, q, text[:200])
        assert "graph/meta" not in text, q
    assert canary.reached() == before, queries


def test_known_attacks_through_the_endpoint_never_reach_the_canary(endpoint, canary):
    queries = [a.format(canary=canary.url, base=canary.base) for a in KNOWN_ATTACKS]
    if endpoint[1] is not None:            # the store's own endpoint, without Köprü's dataset
        store = endpoint[1].url
        queries += [a.format(canary=store + "/query", base=store + "/")
                    .replace("{ }", "{ GRAPH ?g { ?s ?p ?o } }") for a in KNOWN_ATTACKS]
    _through(endpoint, canary, queries)


@settings(FUZZ, max_examples=max(EXAMPLES // 10, 20))
@given(data=st.data())
def test_generated_attacks_through_the_endpoint_never_reach_the_canary(endpoint, canary, data):
    _through(endpoint, canary, [data.draw(attacks(canary.url, canary.base))])
