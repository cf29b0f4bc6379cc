"""Path globs as the swarm's settings write them (`protected_paths`): gitignore-like."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence


@functools.cache
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob: `*` within a name, `**` across directories, `?` one character.

    A pattern without `/` matches a name at any depth; a matching directory covers its contents,
    so `.git/**` and `.git` both protect the whole `.git` directory (and a `.git` file).
    """
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            break  # a trailing /** is implied by "a directory covers its contents"
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{''.join(out)}(?:/.*)?")


def first_match(path: str, patterns: Sequence[str]) -> str | None:
    """The first of `patterns` that `path` (relative, POSIX) matches, if any."""
    for pattern in patterns:
        if glob_to_regex(pattern).fullmatch(path):
            return pattern
    return None
