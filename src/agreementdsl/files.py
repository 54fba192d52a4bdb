"""Files from and to untrusted places: what is read, how big, and where and how it is written.

Reading: only regular files (never a device, a FIFO or a folder, which would block or never
end), and agreements and scenario files only up to a size limit, refused before they are read.
Writing: each file goes to a temporary file in its folder and is renamed into place, so a reader
never sees half a file; a symbolic link at the destination is refused, never followed.
Every refusal is a `FileRefused` with a stable code (P005–P009, docs/errors.md).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

AGREEMENT_LIMIT = 10 * 1024 * 1024  # agreements and scenario files: 10 MiB (real ones are < 100 KB)


class FileRefused(OSError):
    """A file the tool will not read or write, with its code, message and hint.

    An OSError, so that code which handles a file it cannot read or write handles these too.
    """

    def __init__(self, code: str, path: Path | str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.code = code
        self.path = str(path)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"error[{self.code}]: {self.path}: {self.message}" + (
            f"\n  = hint: {self.hint}" if self.hint else ""
        )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_regular(path: Path, mode: int) -> FileRefused:
    return FileRefused(
        "P005",
        path,
        f"{_kind(mode)}, not a regular file",
        "give the path of an ordinary file (save piped or generated input to a file first)",
    )


def require_regular(path: Path) -> None:
    """Refuse (P005) a path that exists and is not a regular file; a missing one is left to the
    reader, which says so in its own words. Never opens the file, so a FIFO cannot block."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise not_regular(path, mode)


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    FileRefused P005 for anything but a regular file, P006 for a bigger one; OSError when it
    cannot be opened. The file is opened without blocking (a FIFO swapped in after a check still
    cannot hang the read) and never read past the limit (a file growing as it is read).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(path, info.st_mode)
        if info.st_size > limit:
            raise too_big(path, info.st_size, limit)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise too_big(path, len(data), limit)
        return data
    finally:
        os.close(fd)


def too_big(path: Path, size: int, limit: int) -> FileRefused:
    return FileRefused(
        "P006",
        path,
        f"the file is {size:,} bytes, over the limit of {limit:,} bytes ({limit // 1024 // 1024} MiB)",
        "an agreement is a few kilobytes; split one that has grown this large, or check the path",
    )


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, renamed into place.

    Refuses (P007) when `path` is a symbolic link (even a dangling one) and (P008) when it is
    a folder or another special file; OSError when the folder is missing or not writable.
    The replaced file keeps its permission bits; a new one gets the usual ones (umask).
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise FileRefused(
            "P007",
            path,
            "is a symbolic link; agreementdsl does not write through links",
            "remove the link, or write to another path",
        )
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise FileRefused(
            "P008", path, f"is {_kind(info.st_mode)}; only a regular file can be replaced"
        )
    folder = path.parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, with every link resolved, is `root` or under it."""
    return path.resolve().is_relative_to(root.resolve())


def repository_root(start: Path) -> Path:
    """The top of the git work tree holding `start` (a folder with `.git`, a folder or a file),
    or, outside any repository, `start`'s own folder."""
    folder = start.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder
