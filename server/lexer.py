"""SPARQL tokens: the one lexer for everything that reads query text
without running it (the endpoint's guard, the remote store's graph-name
rewriting).

Strings, IRIs, comments and prefixed names are single tokens, so a keyword
inside them is never mistaken for a live one. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_PN_CHARS_BASE = (
    "A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF"
    "\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
    "\U00010000-\U000EFFFF"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"

TOKEN_RE = re.compile(
    "(?P<ws>\\s+)"
    "|(?P<comment>#[^\\n\\r]*)"
    r'|(?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)'
    r"|(?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''"
    r'|"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|"(?:[^"\\\n\r]|\\.)*")'
    f"|(?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*)"
    # PNAME_LN / PNAME_NS: prefix (optional) ':' local (optional).
    f"|(?P<pname>(?:[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?:"
    f"(?:(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?)?)"
    f"|(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
    f"|(?P<word>[{_PN_CHARS_BASE}_][{_PN_CHARS}]*)"
    "|(?P<other>.)",
    re.DOTALL,
)

_UNICODE_ESCAPE_RE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_LOCAL_ESCAPE_RE = re.compile(r"\\(.)")


class Token(NamedTuple):
    kind: str       # iri, string, var, pname, bnode, word, other
    text: str
    start: int
    end: int


def tokens(text: str) -> Iterator[Token]:
    """Every significant token of `text`; whitespace and comments skipped."""
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind != "ws" and kind != "comment":
            yield Token(kind or "other", m.group(), m.start(), m.end())


def unescape_codepoints(text: str) -> str:
    """Replace SPARQL's \\uXXXX and \\UXXXXXXXX escapes by their characters."""
    def sub(m):
        code = int(m.group(1) or m.group(2), 16)
        try:
            return chr(code)
        except ValueError:
            return m.group()
    return _UNICODE_ESCAPE_RE.sub(sub, text)


def expand_pname(pname: str, prefixes: dict[str, str]) -> str | None:
    """prefix:local → the IRI it stands for (local escapes removed), or None
    when the prefix is not declared."""
    prefix, _, local = pname.partition(":")
    base = prefixes.get(prefix)
    if base is None:
        return None
    return base + _PN_LOCAL_ESCAPE_RE.sub(r"\1", local)
