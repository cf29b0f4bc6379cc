"""Text from GitHub (issues, comments, reviews) on its way into a prompt: cleaned, then framed.

Cleaned: what the maintainer who labelled the issue could not see is removed — HTML comments
and Markdown's comment-like link definitions (hidden when GitHub renders the text), invisible
format characters (zero-width, bidi controls, Unicode tags, variation selectors) and control
characters. What was removed is reported, so the status comment can show the maintainer.

Framed: the text goes between two tags that carry a digest of the text itself. The text cannot
close its frame early — it would have to contain its own digest — however it is written.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# `[//]: # (hidden)`, `[comment]: <> (hidden)`: link definitions nobody sees rendered.
_MD_COMMENT = re.compile(
    r"^ {0,3}\[[^\]\n]*\]:[ \t]*(?:#|<>)[ \t]*(?:\([^\n]*\)|\"[^\n]*\"|'[^\n]*')?[ \t]*$",
    re.MULTILINE,
)
_KEEP_CONTROLS = {"\n", "\t"}
_SHOWN = 60  # characters of a removed comment quoted back to the maintainer


@dataclass(frozen=True)
class Cleaned:
    text: str
    removed: list[str] = field(default_factory=list)  # what was removed, in words


def _invisible(ch: str) -> bool:
    code = ord(ch)
    category = unicodedata.category(ch)
    if category == "Cf":  # zero-width, bidi controls, tags, soft hyphen, word joiner, ...
        return True
    if category == "Cc":
        return ch not in _KEEP_CONTROLS
    # Variation selectors carry no meaning on their own and can smuggle bytes.
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _quote(snippet: str) -> str:
    flat = " ".join(snippet.split())
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…"


def clean(text: str) -> Cleaned:
    removed: list[str] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n\n")
    for pattern, what in ((_HTML_COMMENT, "an HTML comment"), (_MD_COMMENT, "a Markdown comment")):
        for found in pattern.findall(text):
            removed.append(f"{what}: “{_quote(found)}”")
        text = pattern.sub("", text)
    hidden = Counter(f"U+{ord(ch):04X}" for ch in text if _invisible(ch))
    if hidden:
        text = "".join(ch for ch in text if not _invisible(ch))
        total = sum(hidden.values())
        codes = ", ".join(f"{code} ×{n}" if n > 1 else code for code, n in sorted(hidden.items()))
        noun = "character" if total == 1 else "characters"
        removed.append(f"{total} invisible or control {noun} ({codes})")
    return Cleaned(text, removed)


def reveal(text: str) -> tuple[str, int]:
    """`text` with each invisible or control character shown as `⟦U+202E⟧` instead of removed,
    and how many there were: for data whose hidden parts are themselves under review (a diff,
    where a bidi control in the code is a finding, not noise). Line ends are kept as they are."""
    count = 0

    def shown(ch: str) -> str:
        nonlocal count
        if ch == "\r" or not _invisible(ch):
            return ch
        count += 1
        return f"⟦U+{ord(ch):04X}⟧"

    return "".join(shown(ch) for ch in text), count


def frame(kind: str, text: str) -> str:
    """`text` between tags it cannot forge: both carry a digest of the text."""
    digest = hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()[:16]
    return f'<github-{kind} id="{digest}">\n{text}\n</github-{kind} id="{digest}">'


_FRAMED = re.compile(
    r'<github-([a-z-]+) id="([0-9a-f]{16})">\n(.*)\n</github-\1 id="\2">', re.DOTALL
)


def unframed(text: str) -> str | None:
    """The text inside `frame(...)`'s tags, when `text` is exactly one genuine frame; else None."""
    match = _FRAMED.fullmatch(text.strip())
    if match is None or frame(match.group(1), match.group(3)) != text.strip():
        return None
    return match.group(3)


def quoted(kind: str, text: str) -> tuple[str, list[str]]:
    """The cleaned, framed text, and what cleaning removed."""
    cleaned = clean(text)
    return frame(kind, cleaned.text.strip()), cleaned.removed
