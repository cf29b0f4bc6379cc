"""Readable, deterministic agent names ("amber-otter-worker") for comments, PRs and logs.

The same seed always gives the same name, so a resumed task keeps its agent's name.
"""

from __future__ import annotations

import hashlib

ADJECTIVES: tuple[str, ...] = (
    "amber", "azure", "bold", "brisk", "calm", "candid", "cedar", "clever",
    "cobalt", "coral", "crisp", "dapper", "deft", "eager", "ember", "fabled",
    "fern", "fleet", "frosty", "gentle", "gilded", "glad", "granite", "hardy",
    "hazel", "honest", "ivory", "jade", "jolly", "keen", "kind", "lively",
    "lucid", "lunar", "maple", "mellow", "misty", "modest", "nimble", "noble",
    "ochre", "olive", "patient", "plucky", "polar", "quiet", "rapid", "russet",
    "sage", "scarlet", "silver", "sober", "solar", "steady", "sunny", "swift",
    "tawny", "teal", "tidy", "umber", "valiant", "velvet", "witty", "zesty",
)  # fmt: skip

ANIMALS: tuple[str, ...] = (
    "badger", "beaver", "bison", "bobcat", "crane", "cricket", "dingo", "dolphin",
    "egret", "elk", "falcon", "ferret", "finch", "fox", "gecko", "gibbon",
    "heron", "ibis", "jackal", "jay", "kestrel", "kiwi", "koala", "lemur",
    "lynx", "magpie", "marmot", "marten", "mink", "moose", "narwhal", "newt",
    "ocelot", "orca", "osprey", "otter", "owl", "panda", "pelican", "puffin",
    "quail", "rabbit", "raven", "robin", "salmon", "seal", "shrike", "sparrow",
    "stoat", "swan", "tapir", "tern", "thrush", "toucan", "turtle", "vole",
    "walrus", "weasel", "wombat", "wren", "yak", "zebra", "ermine", "plover",
)  # fmt: skip


def agent_name(seed: str, role: str) -> str:
    """A name like "amber-otter-worker", the same for the same seed and role."""
    digest = hashlib.sha256(f"{role}\0{seed}".encode()).digest()
    adjective = ADJECTIVES[int.from_bytes(digest[:4], "big") % len(ADJECTIVES)]
    animal = ANIMALS[int.from_bytes(digest[4:8], "big") % len(ANIMALS)]
    return f"{adjective}-{animal}-{role}"
