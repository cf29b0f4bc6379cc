"""GitHub's rule on pushes that touch workflows, as the simulator's pre-receive hook.

GitHub refuses a push by a GitHub App whose new commits create, change or delete a file under
`.github/workflows/` unless the App has the `workflows` permission. `git receive-pack` runs this
module as its pre-receive hook (`core.hooksPath` is set per push); the permission arrives in
`SIM_WORKFLOWS_ALLOWED`. What it prints reaches the pusher as `remote:` lines, as GitHub's does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ZERO = "0" * 40
WORKFLOWS = ".github/workflows/"
ALLOWED_ENV = "SIM_WORKFLOWS_ALLOWED"


def install_hook(hooks_dir: Path) -> Path:
    """A hooks directory whose pre-receive runs this module with this interpreter."""
    hooks_dir.mkdir(parents=True, exist_ok=True)
    hook = hooks_dir / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec {sys.executable} -m app.simulator.github.pushguard\n")
    hook.chmod(0o755)
    return hooks_dir


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    return done.stdout


def touched_workflows(old: str, new: str) -> list[str]:
    """Workflow files changed by the commits the update brings."""
    span = [new, "--not", "--all"] if old == ZERO else [f"{old}..{new}"]
    found: list[str] = []
    for commit in _git("rev-list", *span).split():
        names = _git("diff-tree", "--no-commit-id", "--name-only", "-r", "--root", commit)
        found += [n for n in names.splitlines() if n.startswith(WORKFLOWS) and n not in found]
    return found


def main() -> int:
    if os.environ.get(ALLOWED_ENV) == "1":
        return 0
    for line in sys.stdin:
        old, new, _ref = line.split()
        if new == ZERO:
            continue
        for path in touched_workflows(old, new):
            print(
                f"refusing to allow a GitHub App to create or update workflow `{path}` "
                "without `workflows` permission",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
