"""Writing what the commands produce: a path that cannot be written is one clear error, never a
traceback. P001 a folder cannot be made (part of the path is a file, or no permission), P002 the
folder of an output file does not exist, P004 the file itself cannot be written."""

from __future__ import annotations

import os
from pathlib import Path

from .files import FileRefused, atomic_write


class OutputError(OSError):
    """An output path that cannot be written (exit 1): a stable code and one line saying why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"error[{self.code}]: {self.message}"


def _blocking_file(path: Path) -> Path | None:
    """The first part of `path` that exists as something other than a folder, if any."""
    for part in reversed([path, *path.parents]):
        if part.exists() and not part.is_dir():
            return part
    return None


def make_folder(path: Path) -> None:
    """Create the folder (and its parents) that outputs are written into."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = _blocking_file(path)
        why = (
            f"{blocker} is a file, not a folder"
            if blocker is not None
            else (exc.strerror or str(exc)).lower()
        )
        raise OutputError("P001", f"cannot create the folder {path}: {why}") from None


def write_file(path: Path, data: str | bytes, *, newline: str | None = None) -> None:
    """Write one output file atomically; its folder must exist already (P002 says so when it
    does not), and a symbolic link or special file at the path is refused (P007, P008)."""
    folder = path.parent
    if not folder.is_dir():
        blocker = _blocking_file(folder)
        if blocker is not None:
            raise OutputError("P001", f"cannot write {path}: {blocker} is a file, not a folder")
        raise OutputError(
            "P002", f"cannot write {path}: the folder {folder} does not exist (create it first)"
        )
    if isinstance(data, str):
        if newline is not None:
            data = data.replace("\n", newline)
        data = data.encode("utf-8")
    try:
        atomic_write(path, data)  # a temporary file renamed into place; never through a link
    except FileRefused:
        raise
    except OSError as exc:
        why = "it is a folder" if path.is_dir() else (exc.strerror or str(exc)).lower()
        raise OutputError("P004", f"cannot write {path}: {why}") from None


def relative_to_repository(path: Path, top: Path) -> str | None:
    """`path` relative to the repository's top folder, or None when it lies outside."""
    try:
        return Path(os.path.realpath(path)).relative_to(Path(os.path.realpath(top))).as_posix()
    except ValueError:
        return None
