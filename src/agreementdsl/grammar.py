"""The clause parser: Lark over grammar/clauses.lark, and a transformer to model records.

Each DSL block is parsed with the start rule for its clause kind. Positions inside a block are
mapped back into the YAML file by an `Origin`, so diagnostics point at the agreement file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import model as m
from .diagnostics import Diagnostic, error
from .money import MoneyError, parse_money, parse_percent
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
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


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


# ---------------------------------------------------------------- transformer
class ClauseBuilder(Transformer[Token, Any]):
    """Turns a parse tree into model records, collecting value errors (money, percentages)."""

    def __init__(self, clause: ClauseText) -> None:
        super().__init__()
        self.clause = clause
        self.diagnostics: list[Diagnostic] = []

    # helpers
    def _span(self, item: Token | Tree[Token] | Any) -> Span:
        if isinstance(item, Token):
            return self.clause.span(
                item.line or 1, item.column or 1, item.end_line, item.end_column
            )
        meta = item.meta
        return self.clause.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _meta(self, meta: Any) -> Span:
        """The span of a line-long construct, without the line break that ends it."""
        if meta.end_line > meta.line:
            line_text = self.clause.text.split("\n")[meta.line - 1].split("#")[0].rstrip()
            return self.clause.span(meta.line, meta.column, meta.line, len(line_text) + 1)
        return self.clause.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _named(self, tok: Token) -> m.Named:
        return m.Named(str(tok), self._span(tok))

    def _money(self, tok: Token) -> int:
        try:
            return parse_money(str(tok))
        except MoneyError as exc:
            hint = (
                "group thousands in threes: `£1,000,000`"
                if "commas" in str(exc)
                else "money is whole pence: `£1,234.56`"
            )
            self.diagnostics.append(error("E502", self._span(tok), str(exc), hint))
            return 0

    def _percent(self, tok: Token) -> Decimal:
        return parse_percent(str(tok))

    # contributions
    def fixed(self, items: list[Token]) -> m.ContributionExpr:
        return m.FixedAmount(self._money(items[0]))

    def prior_year(self, _items: list[Token]) -> str | None:
        return None

    def named_year(self, items: list[Token]) -> str | None:
        return str(items[0])

    def unchanged(self, items: list[Any]) -> m.ContributionExpr:
        return m.Relative(items[0], +1)

    def adjusted(self, items: list[Any]) -> m.ContributionExpr:
        base, sign, amount = items
        direction = 1 if str(sign) == "+" else -1
        if amount.type == "PERCENT":
            return m.Relative(base, direction, percent=self._percent(amount))
        return m.Relative(base, direction, pence=self._money(amount))

    # risk share
    def risk_share(self, items: list[m.RiskSection]) -> list[m.RiskSection]:
        return items

    @v_args(meta=True)
    def section(self, meta: Any, items: list[Any]) -> m.RiskSection:
        direction, *steps = items
        span = self._meta(meta)
        return m.RiskSection(str(direction), tuple(steps), span)  # type: ignore[arg-type]

    @v_args(meta=True)
    def step(self, meta: Any, items: list[Any]) -> m.RiskStep:
        kind_tok = items[0]
        quantity = items[1] if len(items) == 3 else None
        span = self._meta(meta)
        return m.RiskStep(str(kind_tok), quantity, items[-1], span, self._span(kind_tok))  # type: ignore[arg-type]

    def money_quantity(self, items: list[Token]) -> int:
        return self._money(items[0])

    def pool_percent(self, items: list[Token]) -> m.PoolPercent:
        return m.PoolPercent(self._percent(items[0]))

    def to_partner(self, items: list[Token]) -> m.Allocation:
        return m.ToPartner(self._named(items[0]))

    def by_contribution(self, _items: list[Token]) -> m.Allocation:
        return m.ByContribution()

    def by_element(self, _items: list[Token]) -> m.Allocation:
        return m.ByElement()

    def equally(self, _items: list[Token]) -> m.Allocation:
        return m.Equally()

    def carried_forward(self, _items: list[Token]) -> m.Allocation:
        return m.CarriedForward()

    @v_args(meta=True)
    def split(self, meta: Any, items: list[tuple[m.Named, Decimal]]) -> m.Allocation:
        span = self._meta(meta)
        return m.Split(tuple(items), span)

    def share(self, items: list[Token]) -> tuple[m.Named, Decimal]:
        return self._named(items[0]), self._percent(items[1])

    # spending
    def spending(self, items: list[m.SpendingRule]) -> list[m.SpendingRule]:
        return items

    @v_args(meta=True)
    def rule(self, meta: Any, items: list[Any]) -> m.SpendingRule:
        limit = items[0]
        within_plan, where = (False, None) if len(items) == 2 else items[1]
        span = self._meta(meta)
        return m.SpendingRule(limit, within_plan, where, tuple(items[-1]), span)

    def up_to(self, items: list[Token]) -> int | None:
        return self._money(items[0])

    def above(self, _items: list[Token]) -> int | None:
        return None

    def plan_only(self, _items: list[Any]) -> tuple[bool, m.Condition | None]:
        return True, None

    def plan_and_where(self, items: list[Any]) -> tuple[bool, m.Condition | None]:
        return True, items[-1]

    def where_only(self, items: list[Any]) -> tuple[bool, m.Condition | None]:
        return False, items[-1]

    def approvers(self, items: list[Token]) -> list[m.Named]:
        return [self._named(t) for t in items]

    def any_of(self, items: list[m.Condition]) -> m.Condition:
        return items[0] if len(items) == 1 else m.AnyOf(tuple(items))

    def all_of(self, items: list[m.Condition]) -> m.Condition:
        return items[0] if len(items) == 1 else m.All(tuple(items))

    def negate(self, items: list[m.Condition]) -> m.Condition:
        return m.Not(items[0])

    def value(self, items: list[Token]) -> tuple[m.Named, bool]:
        tok = items[0]
        if tok.type == "STRING":
            return m.Named(str(tok)[1:-1], self._span(tok)), True
        return self._named(tok), False

    def _comparison(self, meta: Any, items: list[Any], negated: bool) -> m.Condition:
        field_tok, *values = items
        span = self._meta(meta)
        return m.Comparison(
            self._named(field_tok),
            negated,
            tuple(v for v, _ in values),
            tuple(q for _, q in values),
            span,
        )

    @v_args(meta=True)
    def is_(self, meta: Any, items: list[Any]) -> m.Condition:
        return self._comparison(meta, items, False)

    @v_args(meta=True)
    def in_(self, meta: Any, items: list[Any]) -> m.Condition:
        return self._comparison(meta, items, False)

    @v_args(meta=True)
    def is_not(self, meta: Any, items: list[Any]) -> m.Condition:
        return self._comparison(meta, items, True)

    @v_args(meta=True)
    def not_in(self, meta: Any, items: list[Any]) -> m.Condition:
        return self._comparison(meta, items, True)

    # reporting
    def reporting(self, items: list[m.Duty]) -> list[m.Duty]:
        return items

    def words(self, items: list[Token]) -> str:
        return " ".join(str(t) for t in items)

    @v_args(meta=True)
    def duration(self, meta: Any, items: list[Token]) -> m.Duration:
        count, unit = int(items[0]), " ".join(str(items[1]).split())
        units: dict[str, m.DurationUnit] = {
            "working day": "working_days",
            "day": "days",
            "week": "weeks",
            "month": "months",
        }
        span = self._meta(meta)
        return m.Duration(count, units[unit.removesuffix("s")], span)

    @v_args(meta=True)
    def periodic(self, meta: Any, items: list[Any]) -> m.Duty:
        cadence, words, to, deadline = items
        report = words if " " in words else f"{cadence} {words}"
        span = self._meta(meta)
        return m.Duty(str(cadence), report, self._named(to), deadline, None, span)  # type: ignore[arg-type]

    @v_args(meta=True)
    def triggered(self, meta: Any, items: list[Any]) -> m.Duty:
        trigger, words, to, deadline = items
        span = self._meta(meta)
        return m.Duty(None, words, self._named(to), deadline, trigger, span)

    @v_args(meta=True)
    def trigger(self, meta: Any, items: list[Token]) -> m.Trigger:
        forecast = items[0].type == "FORECAST"
        direction, threshold = items[-2], items[-1]
        span = self._meta(meta)
        if threshold.type == "PERCENT":
            return m.Trigger(forecast, str(direction), self._percent(threshold), None, span)  # type: ignore[arg-type]
        return m.Trigger(forecast, str(direction), None, self._money(threshold), span)  # type: ignore[arg-type]

    # disputes
    def disputes(self, items: list[m.Stage]) -> list[m.Stage]:
        return items

    @v_args(meta=True)
    def stage(self, meta: Any, items: list[Any]) -> m.Stage:
        number, holder = int(items[0]), items[1]
        limit = items[2] if len(items) > 2 else None
        span = self._meta(meta)
        kind, role, mediator = holder
        return m.Stage(number, kind, role, mediator, limit, span)

    def mediation(self, items: list[Token]) -> tuple[str, m.Named | None, str | None]:
        return "mediation", None, (" ".join(str(items[0]).split()) if items else None)

    def expert(self, _items: list[Token]) -> tuple[str, m.Named | None, str | None]:
        return "expert", None, None

    def role_holder(self, items: list[Token]) -> tuple[str, m.Named | None, str | None]:
        return "role", self._named(items[0]), None

    # outcomes
    def target(self, items: list[Token]) -> m.Target:
        op, number = items
        return m.Target(str(op), Decimal(str(number)), f"{op} {number}")


def build_clause(kind: str, clause: ClauseText) -> tuple[Any, list[Diagnostic]]:
    """Parse and transform one block; (None, diagnostics) when it does not parse."""
    tree, diags = parse_clause(kind, clause)
    if tree is None:
        return None, diags
    builder = ClauseBuilder(clause)
    try:
        result = builder.transform(tree)
    except RecursionError:
        return None, [_too_deep(clause, kind)]
    if builder.diagnostics:
        return None, diags + builder.diagnostics
    return result, diags
