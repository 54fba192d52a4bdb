"""Source files and positions: every diagnostic and every compiled rule points back here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line or self.line,
            "end_col": self.end_col or self.col,
        }


@dataclass(frozen=True)
class SourceFile:
    """The text of one agreement file, kept so diagnostics can quote it."""

    path: str
    text: str
    # Where each line starts and ends (its break excluded), found once: quoting a line for each
    # of thousands of diagnostics must not re-split the whole file each time.
    _bounds: list[tuple[int, int]] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def read(cls, path: str | Path, limit: int | None = None) -> SourceFile:
        """Read a regular file of UTF-8 text; FileRefused when it is special or over `limit`."""
        from .files import AGREEMENT_LIMIT, read_regular

        raw = read_regular(Path(path), AGREEMENT_LIMIT if limit is None else limit)
        return cls(str(path), raw.decode("utf-8-sig"))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline ('' past the end).

        Lines break where `str.splitlines` breaks them.
        """
        start, end = self.line_bounds(line)
        return self.text[start:end]

    def line_bounds(self, line: int) -> tuple[int, int]:
        """Where a 1-based line starts and ends in `text` ((0, 0) past the end)."""
        if not self._bounds:
            starts = [0, *(m.end() for m in LINE_BREAK.finditer(self.text))]
            ends = [m.start() for m in LINE_BREAK.finditer(self.text)] + [len(self.text)]
            bounds = [(a, b) for a, b in zip(starts, ends, strict=True)]
            if bounds and bounds[-1][0] == len(self.text):
                bounds.pop()  # a final line break ends the last line; it does not start one
            self._bounds.extend(bounds)
        if not 1 <= line <= len(self._bounds):
            return (0, 0)
        return self._bounds[line - 1]

    def span(self, line: int, col: int, end_line: int = 0, end_col: int = 0) -> Span:
        return Span(self.path, line, col, end_line, end_col)
