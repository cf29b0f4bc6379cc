"""The bubblewrap runner: a read-only system, the worktree writable, nothing else of the host.

The sandbox sees the system directories and the Python interpreter read-only, only the `/etc`
files a build needs (`etc.py`: never shadow, sudoers, ssh host keys or TLS private keys), a
`passwd` of its own, the worktree read-write at the same path (so paths in its output match the
host's), its `.git` read-only, and its own size-capped /tmp, /proc and /dev. Every namespace is
unshared (no network unless asked), and the command runs as an unprivileged uid with no
capability (see `users.py`) under the limits of `limits.py`. The environment is cleared before
the few variables a build needs are set; they reach bwrap through `--args <fd>` from an
unlinked file rather than its command line, because any local user can read a process's
command line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.sandbox.base import CommandResult, Limits
from app.sandbox.environment import SYSTEM_PATH, scrubbed_env
from app.sandbox.etc import etc_view
from app.sandbox.limits import MIB, WorktreeGuard, limit_hint, limits_prologue
from app.sandbox.process import run_process
from app.sandbox.users import SandboxUser, hand_over, running_as_root, uid_for, user_for

SANDBOX_HOME = "/tmp/home"  # inside the sandbox's own tmpfs
SHELL = "/bin/bash"
SETPRIV = "/usr/bin/setpriv"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Inside the worktree, shown read-only: its `.git` (a file pointing into the mirror, or a
# checkout's own directory, whose config would run commands in Swarm's git).
PROTECTED_INSIDE = (".git",)
_PROBE_TIMEOUT_S = 15.0


def default_readonly_paths() -> list[Path]:
    """The system directories plus the running interpreter's prefixes (its venv and base).

    A home directory is never bound as a whole: an interpreter installed under it (pyenv's
    `~/.pyenv/versions/3.11.7`) is bound by its own prefix only. `/etc` is bound entry by entry.
    """
    paths = [Path(p) for p in _SYSTEM_DIRS]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        candidate = Path(prefix)
        if _is_safe_prefix(candidate):
            paths.append(candidate)
    return _dedupe(paths)


def _is_safe_prefix(path: Path) -> bool:
    home = Path.home()
    if path == Path("/") or path == home or path in home.parents:
        return False
    return not any(path == Path(d) or Path(d) in path.parents for d in (*_SYSTEM_DIRS, "/etc"))


def _dedupe(paths: Iterable[Path]) -> list[Path]:
    seen: list[Path] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def default_sandbox_path() -> str:
    """PATH inside the sandbox: the running interpreter first, then the system's directories."""
    bins = [str(Path(p) / "bin") for p in dict.fromkeys((sys.prefix, sys.base_prefix))]
    return ":".join([*bins, SYSTEM_PATH])


class _Mounts:
    """bwrap arguments for bind mounts, each target's parents made once."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self._made: set[Path] = {Path("/")}

    def parents(self, path: Path) -> None:
        """Create a bind target's parents world-readable: bwrap would copy the host's modes,
        and a host parent such as /root (0700) would lock an unprivileged command out."""
        for parent in reversed(path.parents):
            if parent not in self._made:
                self._made.add(parent)
                self.args += ["--perms", "0755", "--dir", str(parent)]

    def bind(self, path: Path, flag: str = "--ro-bind") -> None:
        if path.is_symlink():
            # Mirror the host's layout (/bin -> usr/bin) so interpreters' #! lines still work.
            self.args += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            self.parents(path)
            self.args += [flag, str(path), str(path)]
            self._made.add(path)


def _system_mounts(readonly_paths: Sequence[Path], etc: Path, network: bool) -> list[str]:
    mounts = _Mounts()
    for path in readonly_paths:
        mounts.bind(path)
    mounts.args += ["--ro-bind", str(etc), "/etc"]
    if network:
        # DNS needs resolv.conf's real file when it is a symlink (systemd-resolved's stub).
        resolv = Path("/etc/resolv.conf")
        if resolv.is_symlink():
            mounts.bind(resolv.resolve())
    return mounts.args


def _protect(worktree: Path) -> list[str]:
    """The worktree's `.git`: a file stays visible read-only; a directory is hidden, empty and
    read-only (a checkout's own config and hooks would otherwise be the agent's to write)."""
    args: list[str] = []
    for name in PROTECTED_INSIDE:
        path = worktree / name
        if path.is_symlink() or not path.exists():
            continue
        if path.is_dir():
            args += ["--tmpfs", str(path), "--remount-ro", str(path)]
        else:
            args += ["--ro-bind", str(path), str(path)]
    return args


@dataclass(frozen=True)
class Box:
    """Everything about one sandbox but the command."""

    bwrap: str
    worktree: Path
    readonly_paths: Sequence[Path]
    etc: Path  # the view bound as /etc
    user: SandboxUser
    limits: Limits


def bwrap_argv(
    box: Box, *, network: bool, args_fd: int, passwd_fd: int, group_fd: int, command: str
) -> list[str]:
    """The full bwrap command line for one command (the environment comes through `args_fd`)."""
    user = box.user
    if user.drop_from_root:
        # bwrap builds the box with root's privileges (no user namespace), and keeps only what
        # setpriv needs to become the worktree's owner; setpriv then drops those too.
        argv = [box.bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-uts"]
        argv += ["--unshare-cgroup-try", *([] if network else ["--unshare-net"])]
        argv += ["--cap-drop", "ALL"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
            argv += ["--cap-add", cap]
    else:
        argv = [box.bwrap, "--unshare-all", *(["--share-net"] if network else [])]
        argv += ["--unshare-user", "--uid", str(user.uid), "--gid", str(user.gid)]
        argv += ["--disable-userns", "--cap-drop", "ALL"]
    argv += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
    # /tmp first: a worktree or a read-only path under /tmp is then mounted on top of it.
    argv += ["--perms", "1777", "--size", str(box.limits.tmp_mb * MIB), "--tmpfs", "/tmp"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += _system_mounts(box.readonly_paths, box.etc, network)
    argv += ["--perms", "0644", "--ro-bind-data", str(passwd_fd), "/etc/passwd"]
    argv += ["--perms", "0644", "--ro-bind-data", str(group_fd), "/etc/group"]
    worktree = _Mounts()
    worktree.bind(box.worktree, "--bind")
    argv += worktree.args + _protect(box.worktree)
    # No --chdir: bwrap would enter the worktree before the drop to its owner, and as root
    # without capabilities it may not; the prologue enters it as the owner.
    argv += ["--args", str(args_fd), "--"]
    if user.drop_from_root:
        argv += [SETPRIV, "--reuid", str(user.uid), "--regid", str(user.gid), "--clear-groups"]
        argv += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    prologue = limits_prologue(box.limits, cwd=box.worktree)
    return [*argv, SHELL, "-c", prologue, "swarm-sandbox", command]


def _accounts(user: SandboxUser) -> tuple[bytes, bytes]:
    """The sandbox's own /etc/passwd and /etc/group: root, the command's user, nobody."""
    passwd = (
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"swarm:x:{user.uid}:{user.gid}:swarm sandbox:{SANDBOX_HOME}:{SHELL}\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    group = f"root:x:0:\nswarm:x:{user.gid}:\nnogroup:x:65534:\n"
    return passwd.encode(), group.encode()


def _env_args(env: Mapping[str, str]) -> bytes:
    parts = ["--clearenv"]
    for name, value in env.items():
        parts += ["--setenv", name, value]
    return b"".join(part.encode() + b"\0" for part in parts)


@contextlib.contextmanager
def _data_fds(*blobs: bytes) -> Iterator[list[int]]:
    """Read ends of pipes already holding `blobs` (each small enough for a pipe's buffer)."""
    fds: list[int] = []
    try:
        for blob in blobs:
            read, write = os.pipe()
            fds.append(read)
            with os.fdopen(write, "wb") as writer:
                writer.write(blob)
        yield fds
    finally:
        for fd in fds:
            os.close(fd)


@contextlib.contextmanager
def _prepared(box: Box, command: str, env: Mapping[str, str], network: bool) -> Iterator[tuple]:
    """(argv, fds to pass) for one command; the fds are closed when the block ends."""
    passwd, group = _accounts(box.user)
    with tempfile.TemporaryFile() as args_file, _data_fds(passwd, group) as (pw, gr):
        args_file.write(_env_args(env))
        args_file.flush()
        args_file.seek(0)
        fd = args_file.fileno()
        argv = bwrap_argv(
            box, network=network, args_fd=fd, passwd_fd=pw, group_fd=gr, command=command
        )
        yield argv, (fd, pw, gr)


class BubblewrapSandbox:
    """Runs each command under bubblewrap in `worktree`. See the module docstring for the box."""

    kind: str = "bubblewrap"

    def __init__(
        self,
        worktree: Path,
        *,
        limits: Limits | None = None,
        readonly_paths: Sequence[Path] | None = None,
        etc_extra: Sequence[str] = (),
        default_timeout_s: float = 600,
        output_cap: int = 65536,
        bwrap: str | None = None,
        path: str | None = None,
    ) -> None:
        self.worktree = Path(worktree).resolve()
        if not self.worktree.is_dir():
            raise ValueError(f"worktree {self.worktree} is not a directory")
        found = bwrap or shutil.which("bwrap")
        if found is None:
            raise FileNotFoundError("bwrap is not installed (Debian package: bubblewrap)")
        self.limits = limits or Limits()
        self.readonly_paths = list(
            default_readonly_paths() if readonly_paths is None else readonly_paths
        )
        self.box = Box(
            found, self.worktree, self.readonly_paths, etc_view(tuple(etc_extra)),
            user_for(self.worktree), self.limits,
        )  # fmt: skip
        self.default_timeout_s = default_timeout_s
        self.output_cap = output_cap
        self.path = path or default_sandbox_path()

    async def run(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        network: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        inner_env = scrubbed_env(home=SANDBOX_HOME, path=self.path, extra=env)
        guard = WorktreeGuard(self.worktree, self.limits.worktree_mb)
        with _prepared(self.box, command, inner_env, network) as (argv, fds):
            result = await run_process(
                argv,
                cwd=self.worktree,
                # bwrap itself gets nothing of ours either; --clearenv then empties the sandbox's.
                env={"PATH": SYSTEM_PATH},
                timeout_s=self.default_timeout_s if timeout_s is None else timeout_s,
                output_cap=self.output_cap,
                pass_fds=fds,
                guard=guard,
            )
        if not result.limit and (over := await guard.check()):
            result.limit = over
        result.limit = limit_hint(result, self.limits)
        return result


def check_bubblewrap(bwrap: str | None = None) -> str | None:
    """Why bubblewrap cannot run here, or None when it can. Probed once per process and cached,
    as the swarm's own worktrees will use it (as root: dropping to a worktree's uid)."""
    return _probe(bwrap or shutil.which("bwrap"))


@functools.cache
def _probe(bwrap: str | None) -> str | None:
    if bwrap is None:
        return "bwrap is not installed (install Debian's `bubblewrap`)"
    if not Path(SHELL).exists():
        return f"{SHELL} is missing (the sandbox's commands run in bash)"
    if running_as_root() and not Path(SETPRIV).exists():
        return f"{SETPRIV} is missing (util-linux): as root, Swarm needs it to drop privileges"
    with tempfile.TemporaryDirectory() as scratch:
        worktree = Path(scratch).resolve()
        hand_over(worktree)
        box = Box(bwrap, worktree, default_readonly_paths(), etc_view(), user_for(worktree),
                  Limits())  # fmt: skip
        with _prepared(box, "true", {"PATH": SYSTEM_PATH}, network=False) as (argv, fds):
            try:
                done = subprocess.run(
                    argv,
                    capture_output=True,
                    timeout=_PROBE_TIMEOUT_S,
                    pass_fds=fds,
                    env={"PATH": SYSTEM_PATH},
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"bwrap could not be started: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        return f"bwrap is installed but cannot create a sandbox here: {detail}"
    return None


__all__ = ["BubblewrapSandbox", "check_bubblewrap", "default_readonly_paths", "uid_for"]
