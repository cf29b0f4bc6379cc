"""Branch-name patterns as GitHub reads them, in its two dialects.

Branch protection and rulesets use fnmatch syntax: `*` stays within one path segment, `**`
crosses `/`, `?` is one character, `[...]` a class. Actions' `on: push: branches:` filters add
regex-like quantifiers (`?` zero or one, `+` one or more of the preceding character) and `!`
negation, read in order: a later pattern overrides an earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def _translate(pattern: str, actions: bool) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("?" if actions and out else "[^/]")
        elif char == "+" and actions and out:
            out.append("+")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append(f"[{'^' + body[1:] if body.startswith('!') else body}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


@lru_cache(maxsize=512)
def _compiled(pattern: str, actions: bool) -> re.Pattern[str]:
    return _translate(pattern, actions)


def fnmatch_branch(pattern: str, name: str) -> bool:
    """Whether a protection or ruleset pattern covers the branch (or ref) `name`."""
    return _compiled(pattern, False).fullmatch(name) is not None


def actions_branch_filter(patterns: Iterable[str], branch: str) -> bool:
    """Whether Actions' `branches:` filter selects `branch` (the last matching pattern wins)."""
    selected = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if _compiled(body, True).fullmatch(branch) is not None:
            selected = not negated
    return selected
