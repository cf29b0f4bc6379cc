"""GitHub's rules on pushes, as the simulator's receive hooks (`core.hooksPath` is set per push).

pre-receive: GitHub refuses a push by a GitHub App whose new commits create, change or delete a
file under `.github/workflows/` unless the App has the `workflows` permission (it arrives in
`SIM_WORKFLOWS_ALLOWED`).

update (once per ref): branch protection and rulesets, judged by pushrules.py from the document
the server wrote for this push (`SIM_PUSH_POLICY` names the file). A refused ref is reported as
git reports a declined hook, the others go through, as on GitHub.

What the hooks print reaches the pusher as `remote:` lines, as GitHub's words do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.simulator.github.pushrules import Change, evaluate_document, git_report, refused

ZERO = "0" * 40
WORKFLOWS = ".github/workflows/"
ALLOWED_ENV = "SIM_WORKFLOWS_ALLOWED"
POLICY_ENV = "SIM_PUSH_POLICY"
HEADS = "refs/heads/"


@dataclass(frozen=True)
class HookDirs:
    plain: Path  # pre-receive only: for repositories without branch rules
    rules: Path  # pre-receive and update: one more process per pushed ref, only where needed


def install_hooks(root: Path) -> HookDirs:
    """Hook directories whose hooks run this module with this interpreter."""
    dirs = HookDirs(root / "plain", root / "rules")
    scripts = {
        dirs.plain: (("pre-receive", ""),),
        dirs.rules: (("pre-receive", ""), ("update", ' update "$@"')),
    }
    for folder, hooks in scripts.items():
        folder.mkdir(parents=True, exist_ok=True)
        for name, args in hooks:
            hook = folder / name
            hook.write_text(
                f"#!/bin/sh\nexec {sys.executable} -m app.simulator.github.pushguard{args}\n"
            )
            hook.chmod(0o755)
    return dirs


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


def update_hook(ref: str, old: str, new: str) -> int:
    """Judge one ref of the push by the branch rules; non-zero refuses it."""
    path = os.environ.get(POLICY_ENV)
    if not path or not ref.startswith(HEADS):
        return 0
    document = json.loads(Path(path).read_text())
    forced = old != ZERO and new != ZERO and not _is_ancestor(old, new)
    change = Change(ref[len(HEADS) :], old, new, forced=forced)
    found = evaluate_document(document, change)
    if found:
        print(git_report(ref, found, document["rules_url"]), file=sys.stderr)
    return 1 if refused(found) else 0


def _is_ancestor(old: str, new: str) -> bool:
    done = subprocess.run(["git", "merge-base", "--is-ancestor", old, new], check=False)
    return done.returncode == 0


def main() -> int:
    if sys.argv[1:2] == ["update"]:
        return update_hook(*sys.argv[2:5])
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
