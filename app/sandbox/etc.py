"""The sandbox's /etc: only what a build needs, as one read-only view built once per process.

Credentials live in /etc too (shadow, ssh host keys, TLS private keys, database configs,
npm/pip tokens), so this is a list of what to show, not of what to hide. Binding each entry
costs a mount per command (~0.4 ms each, 15 ms for the list); a copy of the allowed entries
made once and bound as a whole costs one. Symlinks are copied as symlinks (most point into
/usr, which the sandbox has); `passwd` and `group` are the sandbox's own, bound on top per
command. A host change to /etc reaches the view when Swarm restarts.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ETC_ALLOWED = (
    "alternatives", "bash.bashrc", "ca-certificates", "ca-certificates.conf", "debian_version",
    "fonts", "gai.conf", "host.conf", "hostname", "hosts", "inputrc", "java-*", "ld.so.cache",
    "ld.so.conf", "ld.so.conf.d", "locale.alias", "locale.conf", "localtime", "magic",
    "magic.mime", "mime.types", "mtab", "netconfig", "networks", "nsswitch.conf", "os-release",
    "perl", "profile", "protocols", "python3", "python3.*", "resolv.conf", "services", "shells",
    "ssl/certs", "ssl/openssl.cnf", "terminfo", "timezone", "xml",
)  # fmt: skip
OWN = ("passwd", "group")  # made per command: the sandbox's own accounts
_NEVER = {"passwd", "group", "shadow", "gshadow"}


def etc_paths(extra: Sequence[str] = ()) -> list[Path]:
    """The /etc entries the sandbox shows: the allowed list and the operator's additions."""
    found: list[Path] = []
    for pattern in (*ETC_ALLOWED, *extra):
        for path in sorted(Path("/etc").glob(pattern.strip().strip("/"))):
            if path.name not in _NEVER and path not in found:
                found.append(path)
    return found


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    if source.is_symlink():
        target.symlink_to(os.readlink(source))
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True, ignore_dangling_symlinks=True)
    elif source.is_file():
        shutil.copy2(source, target)


def _build(sources: Iterable[Path]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="swarm-etc-"))
    atexit.register(shutil.rmtree, root, True)
    root.chmod(0o755)
    for source in sources:
        try:
            _copy(source, root / source.relative_to("/etc"))
        except OSError:
            continue  # unreadable to this user: the sandbox could not have read it either
    for name in OWN:
        (root / name).touch(mode=0o644)  # mount points for the per-command files
    return root


@functools.cache
def etc_view(extra: tuple[str, ...] = ()) -> Path:
    """The directory bound read-only as the sandbox's /etc (built on first use)."""
    return _build(etc_paths(extra))
