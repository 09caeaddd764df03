"""Settings (server/config.py): where the project is, whatever names it."""

from __future__ import annotations

from pathlib import Path

from server.config import Config
from server.pipeline.project import Project


def test_project_given_as_path_str_or_project(tiny_project):
    # A Path's own `.root` is its anchor ("/"): the project is the directory.
    for given in (tiny_project, str(tiny_project), Project(tiny_project)):
        assert Config.from_env(project=given).project_root == Path(tiny_project).resolve()


def test_a_projects_state_dir_comes_along(tiny_project, tmp_path):
    config = Config.from_env(project=Project(tiny_project, state_dir=tmp_path / "elsewhere"))
    assert config.resolved_state_dir == tmp_path / "elsewhere"
