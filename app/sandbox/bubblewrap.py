"""The bubblewrap runner: a read-only system, the worktree writable, nothing else of the host.

The sandbox sees the system directories and the Python interpreter read-only, the worktree
read-write at the same path (so paths in its output match the host's), and its own /tmp, /proc and
/dev. Every namespace is unshared (no network unless asked), capabilities are dropped, and the
environment is cleared before the few variables a build needs are set. The variables reach bwrap
through `--args <fd>` from an unlinked file rather than its command line, because any local user
can read a process's command line.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from app.sandbox.base import CommandResult
from app.sandbox.environment import SYSTEM_PATH, scrubbed_env
from app.sandbox.process import run_process

SANDBOX_HOME = "/tmp/home"  # inside the sandbox's own tmpfs
_SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_PROBE_TIMEOUT_S = 15.0


def default_readonly_paths() -> list[Path]:
    """The system directories plus the running interpreter's prefixes (its venv and base).

    A home directory is never bound as a whole: an interpreter installed under it (pyenv's
    `~/.pyenv/versions/3.11.7`) is bound by its own prefix only.
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
    return not any(path == Path(d) or Path(d) in path.parents for d in _SYSTEM_DIRS)


def _dedupe(paths: Iterable[Path]) -> list[Path]:
    seen: list[Path] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def _python_path_dirs() -> list[str]:
    return [str(Path(p) / "bin") for p in dict.fromkeys((sys.prefix, sys.base_prefix))]


def default_sandbox_path() -> str:
    """PATH inside the sandbox: the running interpreter first, then the system's directories."""
    return ":".join([*_python_path_dirs(), SYSTEM_PATH])


def _mount_args(readonly_paths: Sequence[Path], *, network: bool) -> list[str]:
    args: list[str] = []
    paths = list(readonly_paths)
    if network:
        # DNS needs resolv.conf's real file when it is a symlink (systemd-resolved's stub).
        resolv = Path("/etc/resolv.conf")
        if resolv.is_symlink():
            paths.append(resolv.resolve().parent)
    for path in paths:
        if path.is_symlink():
            # Mirror the host's layout (/bin -> usr/bin) so interpreters' #! lines still work.
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def bwrap_argv(
    bwrap: str,
    worktree: Path,
    readonly_paths: Sequence[Path],
    *,
    network: bool,
    args_fd: int,
    shell: str,
    command: str,
) -> list[str]:
    """The full bwrap command line for one command (the environment comes through `args_fd`)."""
    argv = [bwrap, "--unshare-all"]
    if network:
        argv.append("--share-net")
    argv += ["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox"]
    # /tmp first: a worktree or a read-only path under /tmp is then mounted on top of it.
    argv += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    argv += _mount_args(readonly_paths, network=network)
    argv += ["--bind", str(worktree), str(worktree), "--dir", SANDBOX_HOME]
    argv += ["--chdir", str(worktree), "--args", str(args_fd), "--", shell, "-c", command]
    return argv


def _env_args(env: Mapping[str, str]) -> bytes:
    parts = ["--clearenv"]
    for name, value in env.items():
        parts += ["--setenv", name, value]
    return b"".join(part.encode() + b"\0" for part in parts)


class BubblewrapSandbox:
    """Runs each command under bubblewrap in `worktree`. See the module docstring for the mounts."""

    kind: str = "bubblewrap"

    def __init__(
        self,
        worktree: Path,
        *,
        readonly_paths: Sequence[Path] | None = None,
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
        self.bwrap = found
        self.readonly_paths = list(
            default_readonly_paths() if readonly_paths is None else readonly_paths
        )
        self.default_timeout_s = default_timeout_s
        self.output_cap = output_cap
        self.path = path or default_sandbox_path()
        self.shell = "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh"

    async def run(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        network: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        inner_env = scrubbed_env(home=SANDBOX_HOME, path=self.path, extra=env)
        with tempfile.TemporaryFile() as args_file:
            args_file.write(_env_args(inner_env))
            args_file.flush()
            args_file.seek(0)
            fd = args_file.fileno()
            argv = bwrap_argv(
                self.bwrap,
                self.worktree,
                self.readonly_paths,
                network=network,
                args_fd=fd,
                shell=self.shell,
                command=command,
            )
            return await run_process(
                argv,
                cwd=self.worktree,
                # bwrap itself gets nothing of ours either; --clearenv then empties the sandbox's.
                env={"PATH": SYSTEM_PATH},
                timeout_s=self.default_timeout_s if timeout_s is None else timeout_s,
                output_cap=self.output_cap,
                pass_fds=(fd,),
            )


def check_bubblewrap(bwrap: str | None = None) -> str | None:
    """Why bubblewrap cannot run here, or None when it can. Probed once per process and cached."""
    return _probe(bwrap or shutil.which("bwrap"))


@functools.cache
def _probe(bwrap: str | None) -> str | None:
    if bwrap is None:
        return "bwrap is not installed (install Debian's `bubblewrap`)"
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile() as args_file:
        args_file.write(_env_args({"PATH": SYSTEM_PATH}))
        args_file.flush()
        args_file.seek(0)
        argv = bwrap_argv(
            bwrap,
            Path(scratch).resolve(),
            default_readonly_paths(),
            network=False,
            args_fd=args_file.fileno(),
            shell="/bin/sh",
            command="true",
        )
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=_PROBE_TIMEOUT_S,
                pass_fds=(args_file.fileno(),),
                env={"PATH": SYSTEM_PATH},
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap could not be started: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        return f"bwrap is installed but cannot create a sandbox here: {detail}"
    return None
