"""The reader's language and label fallback.

Preference order: `?lang=` (one tag or a comma list), then Accept-Language
by q-value, then English, then any label at all.
"""

from __future__ import annotations

import re

from flask import request

LANG_RE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
LANGUAGE_NAMES = {
    "en": "English", "tr": "Türkçe", "sq": "Shqip", "bs": "Bosanski", "sr": "Српски",
    "hr": "Hrvatski", "mk": "Македонски", "de": "Deutsch", "fr": "Français", "": "no language",
}


def preferred_languages() -> list[str]:
    """Lower-case primary tags in the reader's order of preference, ending with 'en'."""
    langs: list[str] = []
    param = request.args.get("lang", "")
    for tag in param.split(","):
        tag = tag.strip()
        if tag and LANG_RE.match(tag):
            langs.append(tag.lower())
    for tag, q in request.accept_languages:
        if q > 0 and tag != "*" and LANG_RE.match(tag):
            langs.append(tag.lower())
    langs.append("en")
    out: list[str] = []
    for tag in langs:
        for t in (tag, tag.split("-")[0]):
            if t not in out:
                out.append(t)
    return out


def pick(pairs, langs: list[str]) -> tuple[str, str] | None:
    """The best (value, lang) of `pairs` for the languages `langs`."""
    if not pairs:
        return None
    by_lang: dict[str, tuple[str, str]] = {}
    for value, lang in pairs:
        by_lang.setdefault(lang.lower(), (value, lang))
    for tag in langs:
        if tag in by_lang:
            return by_lang[tag]
        for lang, pair in by_lang.items():
            if lang.split("-")[0] == tag:
                return pair
    if "" in by_lang:
        return by_lang[""]
    return sorted(pairs)[0]


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag.lower(), tag)
