"""Reading `/swarm …` commands (and mentions of the app) out of comment text. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERBS = ("stop", "retry", "replan", "go", "status")


@dataclass(frozen=True)
class Command:
    verb: str  # one of VERBS, or "say" for free text to the agent
    text: str  # the verb's argument, or the free text


def parse_command(body: str, app_slug: str) -> Command | None:
    """The command in a comment: from the first line that starts with `/swarm` or a mention
    of the app to the end of the comment. A first word in VERBS is that command; anything
    else is free text for the agent."""
    mention = re.compile(rf"@{re.escape(app_slug)}(\[bot\])?(?![\w-])", re.IGNORECASE)
    lines = body.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if re.match(r"/swarm(\s|$)", stripped, re.IGNORECASE):
            head = stripped[len("/swarm") :]
        elif found := mention.match(stripped):
            head = stripped[found.end() :]
        else:
            continue
        rest = "\n".join([head, *lines[index + 1 :]]).strip()
        if not rest:
            return None
        word, _, argument = rest.partition(" ")
        if word.lower() in VERBS and "\n" not in word:
            return Command(word.lower(), argument.strip())
        return Command("say", rest)
    return None
