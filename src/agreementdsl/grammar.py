"""The clause parser: Lark over grammar/clauses.lark, and a transformer to model records.

Each DSL block is parsed with the start rule for its clause kind. Positions inside a block are
mapped back into the YAML file by an `Origin`, so diagnostics point at the agreement file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostic, error
from .lists import listed
from .source import Span

CLAUSE_KINDS = ("contribution", "risk_share", "spending", "reporting", "disputes", "target")
MAX_SYNTAX_ERRORS_PER_CLAUSE = 10

# How each terminal is described in "expected ..." messages.
_TERMINAL_WORDS = {
    "MONEY": "an amount such as `£50,000`",
    "PERCENT": "a percentage such as `2.5%`",
    "YEAR": "a financial year such as `2005/06`",
    "NUMBER": "a number",
    "INT": "a whole number",
    "NAME": "a name (a partner, role or element id such as `hpct`)",
    "WORD": "a word of the report's name",
    "STRING": 'a quoted text such as "Acme Care"',
    "_NL": "the end of the line",
    "$END": "the end of the clause",
    "<END-OF-FILE>": "the end of the clause",
    "SIGN": "`+` or `-`",
    "DIRECTION": "a section (`overspend:`, `underspend:`)",
    "STEP_KIND": "a step (`first`, `next`, `rest`)",
    "CADENCE": "a cadence (`monthly`, `quarterly`, `annual`)",
    "UNIT": "a unit (`working days`, `days`, `weeks`, `months`)",
    "WITHIN_PLAN": "`within plan`",
    "FORECAST": "`forecast`",
    "COMPARATOR": "a comparison (`>=`, `<=`, `>`, `<` or `=`)",
    "FREE_TEXT": "the mediator's name",
}
# Keywords that only ever appear as the first word of a phrase.
_PHRASES = {
    "up": "`up to`",
    "carried": "`carried forward`",
    "prior": "`prior year`",
    "expert": "`expert determination`",
    "unapproved": "`unapproved spend: borne by the partner`",
}

Origin = Callable[[int, int], tuple[int, int]]


@dataclass(frozen=True)
class ClauseText:
    """A DSL block: its text, the file it is in, and how its positions map into that file."""

    text: str
    file: str
    origin: Origin
    folded: bool = False  # written as a plain or folded scalar, so its lines were joined

    def span(
        self, line: int, col: int, end_line: int | None = None, end_col: int | None = None
    ) -> Span:
        fl, fc = self.origin(line, col)
        if end_line is None or end_col is None:
            return Span(self.file, fl, fc)
        el, ec = self.origin(end_line, end_col)
        return Span(self.file, fl, fc, el, ec)


def _grammar_text() -> str:
    packaged = resources.files("agreementdsl") / "_grammar" / "clauses.lark"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "clauses.lark").read_text("utf-8")


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The one LALR parser with a start rule per clause kind (built once per process)."""
    return Lark(
        _grammar_text(),
        start=list(CLAUSE_KINDS),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,  # the parse table is cached on disk so later runs start faster
    )


def describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type != "str":
        return name.lower()
    return _PHRASES.get(pattern.value, f"`{pattern.value}`")


def describe_expected(names: set[str]) -> str:
    words = sorted({w for w in (describe_terminal(n) for n in names) if not w.startswith("__")})
    if not words:
        return "something else"
    return listed(words, "or")


def _syntax_diagnostic(exc: UnexpectedInput, clause: ClauseText, kind: str) -> Diagnostic:
    line, col = max(exc.line, 1), max(exc.column, 1)
    hint = None
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        word = str(tok).split()[0] if str(tok).split() else str(tok)
        if len(word) > 1:
            word = word.rstrip(":,;")
        shown = "end of line" if tok.type == "_NL" else f"`{word}`"
        wanted = set(exc.expected)
        if len(wanted) > 1 and _at_line_start(clause.text, exc.token.start_pos):
            wanted.discard("_NL")  # a blank line is allowed here, but it is never what was meant
        expected = describe_expected(wanted)
        message = f"unexpected {shown} in {kind.replace('_', ' ')}; expected {expected}"
        end = (line, col + len(word)) if tok.type != "_NL" else None
        hint = _hint_for(word, exc.expected, kind)
    elif isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = clause.text[pos] if pos < len(clause.text) else ""
        expected = describe_expected(set(exc.allowed or ()))
        message = f"unexpected `{char}` in {kind.replace('_', ' ')}; expected {expected}"
        end = (line, col + 1)
        hint = _hint_for(char, set(exc.allowed or ()), kind)
    else:
        ends = exc.expected if isinstance(exc, UnexpectedToken | UnexpectedEOF) else ()
        message = (
            f"{kind.replace('_', ' ')} ends too early; expected {describe_expected(set(ends))}"
        )
        end = None
    if clause.folded and hint is None:
        hint = f"write the clause as a literal block (`{kind}: |`) so each line stays a line"
    span = clause.span(line, col, *end) if end else clause.span(line, col)
    return error("E201", span, message, hint)


def _at_line_start(text: str, pos: int | None) -> bool:
    before = text[: pos or 0].rsplit("\n", 1)[-1]
    return not before.strip()


def _hint_for(found: str, expected: set[str], kind: str) -> str | None:
    found = found.strip(":,;")
    if "NAME" in expected and found[:1].isupper():
        return f"names are written in lower case: `{found.lower()}`"
    if "UNIT" in expected:
        return "write the time limit like `10 working days`, `14 days`, `2 weeks` or `1 month`"
    if "MONEY" in expected and found.replace(",", "").replace(".", "").isdigit():
        return f"write money with a pound sign: `£{found}`"
    if kind == "spending" and expected and expected <= {"$END", "<END-OF-FILE>"}:
        return "`only named approvers` is the last line of the clause: put every rule before it"
    if kind == "spending" and found == "below":
        return "limits are written `up to £X` (inclusive) or `above`"
    if kind == "spending" and found == "within":
        return "`within plan` comes before `where`: `up to £10,000 within plan where element is x: role`"
    if kind == "reporting" and "WORD" in expected:
        return "a duty reads like `monthly finance report to board within 10 working days`"
    if kind == "target":
        return "a target is a comparison and a number, like `>= 80`"
    return None


def _blank_line(text: str, line: int) -> str:
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        lines[line - 1] = " " * len(lines[line - 1])
    return "\n".join(lines)


def _too_deep(clause: ClauseText, kind: str) -> Diagnostic:
    message = f"the {kind.replace('_', ' ')} clause is nested too deeply"
    return error("E204", clause.span(1, 1), message, "use fewer parentheses")


def parse_clause(kind: str, clause: ClauseText) -> tuple[Tree[Token] | None, list[Diagnostic]]:
    """Parse one block with the start rule `kind`; report every bad line, not only the first."""
    text = clause.text if kind in ("contribution", "target") else clause.text.rstrip() + "\n"
    diags: list[Diagnostic] = []
    for _ in range(MAX_SYNTAX_ERRORS_PER_CLAUSE):
        try:
            tree = parser().parse(text, start=kind)
        except RecursionError:
            return None, [_too_deep(clause, kind)]
        except UnexpectedInput as exc:
            diags.append(_syntax_diagnostic(exc, clause, kind))
            line = max(exc.line, 1)
            if kind in ("contribution", "target") or not text.split("\n")[line - 1].strip():
                return None, diags
            text = _blank_line(text, line)
            if not text.strip():
                return None, diags
            continue
        return (None if diags else tree), diags
    return None, diags


def build_clause(kind: str, clause: ClauseText) -> tuple[Any, list[Diagnostic]]:
    """Parse and transform one block; (None, diagnostics) when it does not parse."""
    tree, diags = parse_clause(kind, clause)
    if tree is None:
        return None, diags
    from .transform import ClauseBuilder

    builder = ClauseBuilder(clause)
    try:
        result = builder.transform(tree)
    except RecursionError:
        return None, [_too_deep(clause, kind)]
    if builder.diagnostics:
        return None, diags + builder.diagnostics
    return result, diags
