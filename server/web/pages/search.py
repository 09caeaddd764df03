"""Search over the graph's entities: an index built once per build (names in
every language and summaries), matched word by word from the start of each
word, accent- and case-insensitive, with true totals, paging and "did you
mean" for typos. Technical nodes (geometries, code-list concepts, money
amounts, ontology terms) are not indexed.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field

from server import namespaces as ns
from server.errors import KopruError
from server.web.pages import data
from server.web.pages.catalogue import WAIT, texts

# Nodes whose own page is not what a reader looks for: the thing they
# belong to is (a city, not its point; a trade flow, not its amount).
TECHNICAL_TYPES = {
    ns.GEO + "Geometry", ns.SKOS + "Concept", ns.SKOS + "ConceptScheme",
    ns.SCHEMA + "MonetaryAmount",
}
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The folded words of a text: 'Türkiye–Albania (2021)' → ['turkiye', 'albania', '2021']."""
    return _WORD.findall(data.fold(text))


@dataclass
class Doc:
    iri: str
    labels: tuple            # ((text, lang), …)
    summaries: tuple         # ((text, lang), …)
    folded_labels: tuple     # the labels, folded, in the same order


@dataclass
class Hit:
    iri: str
    label: str               # the label that matched best (or the first)
    lang: str
    summary: str             # a summary that matched ('' when the label did)
    summary_lang: str
    score: int


@dataclass
class Results:
    query: str
    hits: list[Hit]          # this page
    total: int               # every match, over all pages
    page: int
    pages: int
    size: int
    suggestion: str | None = None    # "did you mean", when nothing matched
    infix: bool = False              # matched inside words (no word starts so)


@dataclass
class Index:
    docs: list[Doc] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)          # sorted
    in_labels: dict[str, array] = field(default_factory=dict)    # word → doc numbers
    in_summaries: dict[str, array] = field(default_factory=dict)
    _grams: dict[str, array] | None = None                       # for "did you mean"

    # -- matching ------------------------------------------------------------------
    def _starting_with(self, prefix: str) -> list[str]:
        i = bisect.bisect_left(self.vocabulary, prefix)
        out = []
        while i < len(self.vocabulary) and self.vocabulary[i].startswith(prefix):
            out.append(self.vocabulary[i])
            i += 1
        return out

    def _docs_for(self, word: str) -> tuple[set[int], set[int]]:
        """(docs with a label word starting with `word`, docs with a summary word so)."""
        in_label: set[int] = set()
        in_summary: set[int] = set()
        for w in self._starting_with(word):
            in_label.update(self.in_labels.get(w, ()))
            in_summary.update(self.in_summaries.get(w, ()))
        return in_label, in_summary

    def match(self, query_words: list[str]) -> dict[int, int]:
        """doc number → score, for the docs where every query word starts a
        word of a label or of a summary."""
        found: dict[int, int] | None = None
        for w in query_words:
            in_label, in_summary = self._docs_for(w)
            scores = dict.fromkeys(in_summary, 10)
            scores.update(dict.fromkeys(in_label, 100))
            found = scores if found is None else {d: s + scores[d] for d, s in found.items()
                                                  if d in scores}
            if not found:
                return {}
        return found or {}

    def infix_match(self, needle: str) -> dict[int, int]:
        """Docs with a label containing `needle` anywhere (the fallback when no
        word starts with it)."""
        return {n: 1 for n, d in enumerate(self.docs) if any(needle in f for f in d.folded_labels)}

    # -- did you mean ----------------------------------------------------------------
    def _gram_index(self) -> dict[str, array]:
        if self._grams is None:
            grams: dict[str, array] = {}
            for n, w in enumerate(self.vocabulary):
                if w.isdigit():
                    continue
                for g in _bigrams(w):
                    grams.setdefault(g, array("I")).append(n)
            self._grams = grams
        return self._grams

    def closest(self, word: str) -> str | None:
        """The indexed word nearest to `word` within a small edit distance
        (one edit for short words, two for longer), preferring the commonest."""
        if len(word) < 3 or word.isdigit():
            return None
        limit = 1 if len(word) <= 4 else 2
        shared: Counter = Counter()
        grams = self._gram_index()
        for g in set(_bigrams(word)):
            shared.update(grams.get(g, ()))
        need = max(1, len(word) - 1 - 2 * limit)
        best: tuple | None = None
        for n, common in shared.most_common(400):
            if common < need:
                break
            w = self.vocabulary[n]
            if abs(len(w) - len(word)) > limit:
                continue
            d = edit_distance(word, w, limit)
            if d <= limit:
                weight = len(self.in_labels.get(w, ())) + len(self.in_summaries.get(w, ()))
                key = (d, -weight, w)
                if best is None or key < best:
                    best = key
        return best[2] if best else None


def _bigrams(word: str) -> list[str]:
    padded = f"^{word}$"
    return [padded[i:i + 2] for i in range(len(padded) - 1)]


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of two neighbours is one
    edit), or limit + 1 once it is certainly above `limit`."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


# --- the index, once per build ---------------------------------------------------------

def index(wait: float = WAIT) -> Index:
    """The search index of this build, made once per process in the
    background; a 503 that says so when it is not ready within `wait` s
    (the first search on a very large graph)."""
    idx = data.handle().prepared("search_index", build_index, wait)
    if idx is None:
        e = KopruError("Search is getting ready: the names of this graph are being indexed "
                       "(once per build). Try again in a few seconds.", status=503)
        e.retry_after = 5
        raise e
    return idx


def build_index() -> Index:
    found = texts()
    technical = data.typed_nodes(TECHNICAL_TYPES)
    idx = Index()
    in_labels: dict[str, set] = {}
    in_summaries: dict[str, set] = {}
    for iri in sorted(found.names):     # a node with no name is not a search result
        if iri in technical or not _indexable(iri):
            continue
        n = len(idx.docs)
        pairs = found.names[iri]
        notes = found.summaries.get(iri, ())
        idx.docs.append(Doc(iri, pairs, notes, tuple(data.fold(t) for t, _ in pairs)))
        for text, _ in pairs:
            for w in words(text):
                in_labels.setdefault(w, set()).add(n)
        for text, _ in notes:
            for w in words(text):
                in_summaries.setdefault(w, set()).add(n)
    idx.in_labels = {w: array("I", sorted(s)) for w, s in in_labels.items()}
    idx.in_summaries = {w: array("I", sorted(s)) for w, s in in_summaries.items()}
    idx.vocabulary = sorted(set(idx.in_labels) | set(idx.in_summaries))
    return idx


def _indexable(iri: str) -> bool:
    # Entities and the sources' sentences; not ontology terms or shapes.
    return iri.startswith((ns.ID, ns.BASE + "source/"))


# --- searching ----------------------------------------------------------------------

def search(q: str, page: int = 1, size: int = PAGE_SIZE, langs: list[str] | None = None) -> Results:
    """One page of the matches for `q`, best first, with the total. Every
    query word must start a word of a name or a summary; a name match
    counts 100 a word, a summary match 10; a name that is the query gains
    1000, one that starts with it 300; then shorter names first. When no
    word starts with the query, names containing it are given instead
    (said so); when nothing matches, a spelling one or two edits away that
    does is offered ("did you mean")."""
    size = min(max(1, size), MAX_PAGE_SIZE)
    idx = index()
    qwords = words(q)
    needle = " ".join(qwords)
    infix = False
    scores = idx.match(qwords) if qwords else {}
    if not scores and len(needle) >= 3:
        scores = idx.infix_match(needle)
        infix = bool(scores)
    ranked = sorted(((_score(idx.docs[n], s, needle), n) for n, s in scores.items()),
                    key=lambda t: (-t[0], len(idx.docs[t[1]].folded_labels[0]), idx.docs[t[1]].iri))
    total = len(ranked)
    pages = max(1, -(-total // size))
    page = max(1, page)
    chosen = ranked[(page - 1) * size:page * size]
    hits = [_hit(idx.docs[n], score, qwords, langs or ["en"]) for score, n in chosen]
    suggestion = None
    if not total and qwords:
        fixed = [idx.closest(w) if not idx._starting_with(w) else w for w in qwords]
        if all(fixed) and fixed != qwords and idx.match(fixed):     # type: ignore[arg-type]
            suggestion = " ".join(fixed)                             # type: ignore[arg-type]
    return Results(q, hits, total, page, pages, size, suggestion, infix)


def _score(doc: Doc, base: int, needle: str) -> int:
    """Word matches (label 100, summary 10, per query word), raised when a
    whole label is the query (1000) or starts with it (300)."""
    best = 0
    for f in doc.folded_labels:
        joined = " ".join(_WORD.findall(f))
        if joined == needle:
            best = max(best, 1000)
        elif joined.startswith(needle):
            best = max(best, 300)
    return base + best


def _hit(doc: Doc, score: int, qwords: list[str], langs: list[str]) -> Hit:
    """The label to show as matched (the one that matched, in the reader's
    language when several did) and a summary that matched, if only it did."""
    def hits_all(text: str) -> bool:
        ws = words(text)
        return all(any(w.startswith(q) for w in ws) for q in qwords)

    matched = [(t, lang) for t, lang in doc.labels if hits_all(t)] if qwords else []
    pool = matched or list(doc.labels)
    ranked = sorted(pool, key=lambda p: (_lang_rank(p[1], langs), p[1], p[0]))
    label, lang = ranked[0]
    summary, summary_lang = "", ""
    if not matched:
        for t, sl in sorted(doc.summaries, key=lambda p: _lang_rank(p[1], langs)):
            if hits_all(t):
                summary, summary_lang = t, sl
                break
    return Hit(doc.iri, label, lang, summary, summary_lang, score)


def _lang_rank(tag: str, langs: list[str]) -> int:
    primary = (tag or "").lower().split("-")[0]
    return langs.index(primary) if primary in langs else len(langs)


def exact(text: str) -> list[str]:
    """IRIs with a label that is `text` (folded), for /id/<name> redirects."""
    needle = " ".join(words(text))
    if not needle:
        return []
    idx = index()
    return [d.iri for d in idx.docs
            if any(" ".join(_WORD.findall(f)) == needle for f in d.folded_labels)]


def similar(text: str, limit: int = 5) -> list[str]:
    """IRIs whose names are like `text` (a mistyped slug or path), best first."""
    qwords = words(text.replace("-", " ").replace("_", " "))
    if not qwords:
        return []
    found = search(" ".join(qwords), size=limit)
    if not found.total and found.suggestion:
        found = search(found.suggestion, size=limit)
    if not found.total and len(qwords) > 1:
        # Any of the words: the longest first.
        for w in sorted(qwords, key=len, reverse=True):
            found = search(w, size=limit)
            if found.total:
                break
    return [h.iri for h in found.hits]


def marks(text: str, qwords: list[str]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, matched?) where a word starts with a query
    word, for highlighting: 'Arnavutluk' with ['arnavut'] →
    [('Arnavut', True), ('luk', False)]."""
    if not text or not qwords:
        return [(text, False)] if text else []
    folded, origin = [], []            # folded characters, and where each came from
    for i, ch in enumerate(text):
        for f in data.fold(ch):
            folded.append(f)
            origin.append(i)
    flat = "".join(folded)
    spans = []
    for m in _WORD.finditer(flat):
        for q in sorted(qwords, key=len, reverse=True):
            if m.group().startswith(q):
                spans.append((origin[m.start()], origin[m.start() + len(q) - 1] + 1))
                break
    out, at = [], 0
    for start, end in spans:
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out
