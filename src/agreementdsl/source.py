"""Source files and positions: every diagnostic and every compiled rule points back here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        raw = Path(path).read_bytes()
        return cls(str(path), raw.decode("utf-8-sig"))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline ('' past the end)."""
        lines = self.text.splitlines()
        return lines[line - 1] if 1 <= line <= len(lines) else ""

    def span(self, line: int, col: int, end_line: int = 0, end_col: int = 0) -> Span:
        return Span(self.path, line, col, end_line, end_col)
