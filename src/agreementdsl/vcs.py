"""Versions of agreements to compare: two files, or the working tree against a git revision."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import AGREEMENT_LIMIT, FileRefused, read_regular, too_big
from .outputs import relative_to_repository
from .source import SourceFile


class VersionError(Exception):
    def __init__(self, message: str, usage: bool = False, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.code = code


@dataclass(frozen=True)
class Pair:
    old_name: str
    old_text: str | None  # None: the agreement is new
    new_name: str
    new_text: str | None  # None: the agreement was removed


def _read(path: Path) -> str:
    try:
        return read_regular(path, AGREEMENT_LIMIT).decode("utf-8-sig")
    except FileRefused as exc:
        raise VersionError(str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise VersionError(f"cannot read {path}: {exc}") from exc


def pairs_from_files(paths: list[Path]) -> list[Pair]:
    if len(paths) != 2:
        raise VersionError("give OLD and NEW agreement files, or --git REV", usage=True)
    old, new = paths
    return [Pair(str(old), _read(old), str(new), _read(new))]


def _git(*args: str, cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise VersionError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        raise VersionError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def pairs_from_git(rev: str, paths: list[Path]) -> list[Pair]:
    """The working tree's agreements against `rev` (all changed agreements when none are named)."""
    try:
        top = Path(_git("rev-parse", "--show-toplevel", cwd=Path.cwd()).strip())
    except VersionError as exc:
        if "not a git repository" not in exc.message:
            raise
        raise VersionError(
            f"--git {rev}: {Path.cwd()} is not inside a git repository; run it from the "
            "repository that holds the agreements, or compare two files: diff OLD NEW",
            usage=True,
        ) from None
    try:
        _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=top)
    except VersionError:
        raise VersionError(f"`{rev}` is not a revision of this repository", usage=True) from None
    if not paths:
        names = _git("diff", "--name-only", rev, "--", "*.yaml", "*.yml", cwd=top).split()
        untracked = _git(
            "ls-files", "--others", "--exclude-standard", "--", "*.yaml", "*.yml", cwd=top
        ).split()
        paths = [
            top / n for n in [*names, *untracked] if not n.endswith((".test.yaml", ".test.yml"))
        ]
    pairs = []
    for path in paths:
        rel = relative_to_repository(path, top)
        if rel is None:
            raise VersionError(
                f"cannot compare {path} with {rev}: it is outside the git repository {top} "
                "(to compare two files, give both: agreementdsl diff OLD NEW)",
                code="P003",
            )
        try:
            old: str | None = _git("show", f"{rev}:{rel}", cwd=top)
        except VersionError:
            old = None
        if old is not None and len(old) > AGREEMENT_LIMIT // 4:  # cheap first: 4 bytes a char
            size = len(old.encode("utf-8"))
            if size > AGREEMENT_LIMIT:
                raise VersionError(str(too_big(Path(f"{rel}@{rev}"), size, AGREEMENT_LIMIT)))
        new = _read(path) if path.exists() else None
        if old is None and new is None:
            raise VersionError(f"{rel} exists neither in {rev} nor in the working tree", usage=True)
        pairs.append(Pair(f"{rel}@{rev}", old, rel, new))
    return pairs


def compile_version(name: str, text: str) -> dict[str, Any]:
    """The IR of one version, or a VersionError with its diagnostics."""
    from .api import load_source
    from .compile import compile_agreement
    from .diagnostics import format_text_report

    loaded = load_source(SourceFile(name, text))
    if loaded.errors or loaded.agreement is None:
        report = format_text_report(loaded.errors, {name: SourceFile(name, text)})
        raise VersionError(f"{report}\ncannot compare {name}: it has {len(loaded.errors)} error(s)")
    return compile_agreement(loaded.agreement, text)


def history_from_git(path: Path) -> list[dict[str, Any]]:
    """The version history of one agreement from git, oldest first: each commit that changed the
    file is a version numbered from 1, dated by its author date, its change the commit's subject
    (with its short hash); uncommitted changes are a last version dated by nothing."""
    try:
        top = Path(_git("rev-parse", "--show-toplevel", cwd=path.resolve().parent).strip())
    except VersionError as exc:
        raise VersionError(
            f"--git: {path} is not inside a git repository, so it has no history to show; "
            "give the history as `versions:` in the agreement instead",
            usage=True,
        ) from exc
    rel = relative_to_repository(path, top)
    if rel is None:
        raise VersionError(f"--git: {path} is outside the git repository {top}", code="P003")
    log = _git(
        "log",
        "--follow",
        "--reverse",
        "--date=short",
        "--format=%h%x09%ad%x09%s",
        "--",
        rel,
        cwd=top,
    )
    versions: list[dict[str, Any]] = []
    for number, line in enumerate(log.splitlines(), start=1):
        commit, day, subject = [*line.split("\t", 2), "", ""][:3]
        versions.append({"version": str(number), "date": day, "change": f"{subject} ({commit})"})
    if _git("status", "--porcelain", "--", rel, cwd=top).strip():
        versions.append(
            {
                "version": str(len(versions) + 1),
                "date": None,
                "change": "this draft: changes since the last version",
            }
        )
    return versions
