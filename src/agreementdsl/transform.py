"""The transformer: a clause's parse tree turned into model records, collecting value errors
(money that is not whole pence, commas in the wrong places) as diagnostics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lark import Token, Transformer, Tree, v_args

from . import model as m
from .diagnostics import Diagnostic, error
from .grammar import ClauseText
from .limits import MAX_PENCE, pounds
from .money import MoneyError, parse_money, parse_percent
from .source import Span


class ClauseBuilder(Transformer[Token, Any]):
    """Turns a parse tree into model records, collecting value errors (money, percentages)."""

    def __init__(self, clause: ClauseText) -> None:
        super().__init__()
        self.clause = clause
        self.diagnostics: list[Diagnostic] = []
        self._lines: list[str] = []  # the clause's lines, split once (not once per rule)

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
            if not self._lines:
                self._lines = self.clause.text.split("\n")
            line_text = self._lines[meta.line - 1].split("#")[0].rstrip()
            return self.clause.span(meta.line, meta.column, meta.line, len(line_text) + 1)
        return self.clause.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _named(self, tok: Token) -> m.Named:
        return m.Named(str(tok), self._span(tok))

    def _money(self, tok: Token) -> int:
        try:
            pence = parse_money(str(tok))
        except MoneyError as exc:
            hint = (
                "group thousands in threes: `£1,000,000`"
                if "commas" in str(exc)
                else "money is whole pence: `£1,234.56`"
            )
            self.diagnostics.append(error("E502", self._span(tok), str(exc), hint))
            return 0
        if pence >= MAX_PENCE:
            self.diagnostics.append(
                error(
                    "E013",
                    self._span(tok),
                    f"`{tok}` is {pounds(MAX_PENCE)} or more, beyond any pooled budget",
                    "check the number of digits and the `k`/`m` suffix",
                )
            )
            return 0
        return pence

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

    @v_args(meta=True)
    def to_leaver(self, meta: Any, _items: list[Token]) -> m.Allocation:
        return m.ToLeaver(self._meta(meta))

    def to_partner(self, items: list[Token]) -> m.Allocation:
        return m.ToPartner(self._named(items[0]))

    def by_contribution(self, _items: list[Token]) -> m.Allocation:
        return m.ByContribution()

    def by_element(self, _items: list[Token]) -> m.Allocation:
        return m.ByElement()

    @v_args(meta=True)
    def by_own_elements(self, meta: Any, items: list[Token]) -> m.Allocation:
        return m.ByOwnElements(bool(items) and str(items[0]) == "gross", self._meta(meta))

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
    def spending(
        self, items: list[m.SpendingRule | m.OnlyNamed | m.BorneByPartner]
    ) -> list[m.SpendingRule | m.OnlyNamed | m.BorneByPartner]:
        return items

    @v_args(meta=True)
    def only_named(self, meta: Any, _items: list[Token]) -> m.OnlyNamed:
        return m.OnlyNamed(self._meta(meta))

    @v_args(meta=True)
    def borne(self, meta: Any, _items: list[Token]) -> m.BorneByPartner:
        return m.BorneByPartner(self._meta(meta))

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
