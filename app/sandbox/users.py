"""Who a sandboxed command runs as: never the host's root, and never with a capability.

The rule is one: commands run as the owner of their worktree.

- Swarm is not root: bubblewrap, unprivileged, makes a user namespace in which the command is
  uid 1000; on the host it is Swarm's own user, with no capability.
- Swarm is root and the worktree belongs to another user: bubblewrap runs privileged to build
  the box, then `setpriv` drops to that user's uid before the command starts, with every
  capability gone. The swarm's own worktrees are handed to a uid of their own when they are made
  (`hand_over`), so agents can neither read each other's trees nor share a process budget.
- Swarm is root and the worktree is root's (`swarm agent run` on root's own checkout): the user
  namespace maps the command to root on the host. Linux then applies no process limit, which
  `swarm doctor` and a warning say; run Swarm as an unprivileged user.
"""

from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

INSIDE_UID = 1000  # the uid commands see in a user namespace
UID_BASE = 200_000  # the swarm's worktrees get uids from here (as root), one per worktree
UID_SPAN = 50_000


@dataclass(frozen=True)
class SandboxUser:
    uid: int  # as the command sees it
    gid: int
    drop_from_root: bool  # bubblewrap runs as root and setpriv drops to uid/gid


def running_as_root() -> bool:
    return os.geteuid() == 0


def user_for(worktree: Path) -> SandboxUser:
    if not running_as_root():
        return SandboxUser(INSIDE_UID, INSIDE_UID, drop_from_root=False)
    info = worktree.stat()
    if info.st_uid != 0:
        return SandboxUser(info.st_uid, info.st_gid, drop_from_root=True)
    log.warning(
        "sandboxed commands in %s run as root on the host (the worktree is root's): Linux "
        "applies no process limit to root; run Swarm as an unprivileged user",
        worktree,
    )
    return SandboxUser(INSIDE_UID, INSIDE_UID, drop_from_root=False)


def uid_for(worktree: Path) -> int:
    """The uid a worktree of the swarm's is handed to when Swarm runs as root."""
    return UID_BASE + zlib.crc32(str(worktree).encode()) % UID_SPAN


def hand_over(worktree: Path) -> None:
    """Give a fresh worktree to its own unprivileged uid (only when Swarm is root)."""
    if not running_as_root():
        return
    uid = uid_for(worktree)
    os.lchown(worktree, uid, uid)
    for directory, dirnames, filenames in os.walk(worktree):
        for name in dirnames + filenames:
            os.lchown(os.path.join(directory, name), uid, uid)


def adopt(path: Path, worktree: Path) -> None:
    """A file the orchestrator made in `worktree` belongs to the worktree's owner (as root)."""
    if not running_as_root():
        return
    owner = worktree.stat()
    if owner.st_uid != 0:
        os.lchown(path, owner.st_uid, owner.st_gid)
