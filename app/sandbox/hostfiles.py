"""Reading and writing, from the host, files an agent's commands could have made.

An agent can leave a FIFO, a socket or a device node where a file is expected; opening one
blocks forever or talks to something else. Every host-side open of an agent-writable path goes
through here: it never follows a symlink at the last step, never blocks (O_NONBLOCK), and refuses
anything that turns out not to be a regular file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device or directory, not a regular file."""


def kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def _checked(fd: int, path: Path | str) -> int:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegularFile(f"{path} is {kind_of(info.st_mode)}, not a regular file")
    return fd


def open_regular(path: Path | str, *, dir_fd: int | None = None) -> BinaryIO:
    """Open a regular file for reading; raises NotRegularFile, or OSError (ELOOP for a
    symlink, ENOENT when missing)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = _checked(os.open(path, flags, dir_fd=dir_fd), path)
    return os.fdopen(fd, "rb")


def write_regular(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create or overwrite a regular file (a FIFO there fails at once with ENXIO instead of
    waiting for a reader; any other non-regular file is refused before it is written)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = _checked(os.open(path, flags, mode), path)
    with os.fdopen(fd, "wb") as file:
        file.truncate(0)
        file.write(data)
