"""A worktree with a few files, and the tools on it through the real sandbox this machine has."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.agent.tools import WorkspaceTools
from app.sandbox import make_sandbox

PROTECTED = [".git/**", ".github/workflows/**"]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "worktree"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (root / "README.md").write_text("# Demo\n\nA demo project.\n")
    (root / "src" / "app.py").write_text(
        "import os\n\n\ndef load_config():\n    return {}\n\n\ndef load_data():\n    return []\n"
    )
    (root / "src" / "pkg" / "util.py").write_text("def helper():\n    return 42\n")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the worktree that stands in for the rest of the host."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("host secret\n")
    return path


@pytest.fixture
def tools(worktree: Path) -> WorkspaceTools:
    return WorkspaceTools(worktree, make_sandbox(worktree), protected=PROTECTED)
