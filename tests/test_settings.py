"""Settings have one home: server/config.py reads every KOPRU_* variable,
the README's Configuration table lists exactly those (with the same
defaults), and no other document or module names one that does not exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from server.config import SETTINGS, Config

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = re.compile(r"\bKOPRU_[A-Z][A-Z_]*[A-Z]\b")


def _readme_table() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration"):]
    section = section[:section.index("\n## ", 3)]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith("`KOPRU_"):
            rows[cells[0].strip("`")] = cells
    return rows


def test_the_readme_lists_every_setting_with_its_flag_and_default():
    rows = _readme_table()
    assert set(rows) == {s.env for s in SETTINGS}
    for s in SETTINGS:
        assert rows[s.env][1] == (f"`{s.flag}`" if s.flag else ""), s.env
        assert rows[s.env][2] == s.default, s.env


def _documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "Dockerfile", *sorted((ROOT / "docs").glob("*.md"))]


# The test suite's own knobs (how long the fuzz runs are, which screenshots to keep),
# not Köprü's settings.
TEST_KNOBS = {"KOPRU_FUZZ_EXAMPLES", "KOPRU_OWL2_LIVE", "KOPRU_LONG_PROOFS", "KOPRU_SCREENSHOTS"}


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_documents_name_only_real_settings(path):
    known = {s.env for s in SETTINGS} | TEST_KNOBS
    named = set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    assert named <= known, named - known


def _setting_reads(tree) -> list[int]:
    """Lines that look a KOPRU_* name up: x.get("KOPRU_…"), getenv("KOPRU_…"), x["KOPRU_…"]."""
    def setting_name(node) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and node.value.startswith("KOPRU_")

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and setting_name(node.args[0]):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("get", "getenv", "pop", "setdefault"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and setting_name(node.slice):
            lines.append(node.lineno)
    return lines


def test_only_config_reads_the_environment_for_settings():
    readers = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        if path == ROOT / "server" / "config.py":
            continue
        for line in _setting_reads(ast.parse(path.read_text(encoding="utf-8"))):
            readers.append(f"{path.relative_to(ROOT)}:{line}")
    assert readers == []


def test_the_reader_check_sees_a_read():
    code = 'import os\nenv = os.environ\nenv.get("KOPRU_X")\nos.environ["KOPRU_Y"]\n'
    assert _setting_reads(ast.parse(code)) == [3, 4]


def test_each_setting_reaches_its_field():
    env = {s.env: raw for s, raw in zip(SETTINGS, _sample_values(), strict=True)}
    config = Config.from_env(env)
    assert config.query_timeout == 2.5 and config.result_limit == 7 and config.workers == 3
    assert config.service_allowlist == ("https://example.org/sparql",)
    assert config.reasoner == "owlrl" and config.parallel_build is False
    assert config.store_user == "u" and config.push_grace == 1.0
    assert config.store_version_max_age == 0.5


def _sample_values() -> list[str]:
    samples = {"KOPRU_PROJECT": ".", "KOPRU_STATE_DIR": "/tmp/s", "KOPRU_STORE": "/tmp/s/c",
               "KOPRU_HOST": "0.0.0.0", "KOPRU_PORT": "9000", "KOPRU_WORKERS": "3",
               "KOPRU_QUERY_TIMEOUT": "2.5", "KOPRU_RESULT_LIMIT": "7",
               "KOPRU_REQUEST_TIMEOUT": "4",
               "KOPRU_MAX_QUERY_BYTES": "5000", "KOPRU_QUERY_MEMORY": "64",
               "KOPRU_LONG_QUERIES": "1",
               "KOPRU_SERVICE_ALLOWLIST": "https://example.org/sparql",
               "KOPRU_RESULT_CACHE_BYTES": "0", "KOPRU_STORE_URL": "http://127.0.0.1:1/",
               "KOPRU_STORE_USER": "u", "KOPRU_STORE_PASSWORD": "p",
               "KOPRU_STORE_UPDATE_URL": "http://127.0.0.1:1/update",
               "KOPRU_STORE_GSP_URL": "http://127.0.0.1:1/store",
               "KOPRU_STORE_PUSH_TIMEOUT": "60", "KOPRU_STORE_PUSH_GRACE": "1",
               "KOPRU_STORE_VERSION_MAX_AGE": "0.5",
               "KOPRU_REASONER": "owlrl", "KOPRU_PARALLEL": "0", "KOPRU_LOG_LEVEL": "warning",
               "KOPRU_VALIDATOR": "pyshacl", "KOPRU_BUILD_MEMORY": "2G"}
    return [samples[s.env] for s in SETTINGS]


@pytest.mark.parametrize("env, words", [
    ({"KOPRU_PORT": "eighty"}, "KOPRU_PORT='eighty' is not valid"),
    ({"KOPRU_REASONER": "magic"}, "expected one of fast, owlrl, exact"),
    ({"KOPRU_QUERY_TIMEOUT": "-1"}, "the query timeout must be positive"),
])
def test_a_wrong_setting_is_named(env, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        Config.from_env(env)
