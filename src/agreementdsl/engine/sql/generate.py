"""The compiled rules as SQL: one sqlglot tree per statement, generated for each dialect.

The statements read a relation `raw_rows` of the ledger's texts (one row per ledger row, with
its physical line and, for a row of the wrong width, its field count) that the reading layer of
each engine provides, and build everything the analysis needs:

- `staged`: every row once, with `ok` true when the row is in a form the SQL parses exactly as
  the reference reader does (plain ISO dates, known pools, kinds, elements and partners, amounts
  like `12500.00`); the parsed values for those rows, with pool, kind, element and partner
  also as small integer codes (cheaper to group by), and the texts for the others.
  A row that is not `ok` is not rejected here: the reference reader's own `check` decides it,
  with its code and message, so the two executors cannot disagree on a doubtful row.
- `net`, `forecasts`, `received`, `days`: pool/element/day aggregation of the usable rows.
- `spends`: each spend above zero with the number of the first spending rule that applies
  (limits, within plan, conditions), in the order of LANGUAGE.md §5.

Only a whitelisted subset of SQL is used, one that means the same on DuckDB, PostgreSQL and
Spark: CASE (searched and simple), IN, comparisons, SUBSTRING, LENGTH, a regular-expression
match, CAST of checked amounts to DECIMAL(14, 2) and of that times 100 (a whole number) to
BIGINT, of checked ISO dates to DATE, SUM of BIGINT pence cast to DECIMAL(38, 0) (exact on
every engine). Money is BIGINT pence throughout: no `/`, no ROUND, no fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from ...money import parse_amount

Node = exp.Expr  # any node of a sqlglot tree

DIALECTS = ("duckdb", "postgres", "spark")
# The raw texts, in the reference reader's COLUMNS order.
TEXTS = (
    "date_text",
    "pool",
    "kind",
    "amount_text",
    "element",
    "partner",
    "approved_by",
    "in_plan_text",
    "supplier",
    "category",
)
GOOD = ("line", "day", "pool", "kind", "pence", "element", "partner", "approved_by", "in_plan")
GOOD_TEXT = ("supplier", "category")
KINDS = ("spend", "income", "contribution", "forecast")
# The in_plan texts of the reference executor's fast path (`y`, `t`, `n`, `f` and other cases
# take its careful path).
TRUE = ("true", "yes", "1")
FALSE = ("false", "no", "0", "")
PLAN_ORDER = ("", "true", "false", "yes", "no", "1", "0")  # each of TRUE and FALSE once

DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The plain amounts the reference executor reads on its fast path (`12500.00`, `12500`): any
# other form (`£1,250.5`, `-5`) takes its careful path, and the SQL leaves those rows to the
# reference reader.
AMOUNT_RE = r"^[0-9]{1,12}([.][0-9]{2})?$"  # under £1 trillion (L016), as the fast path


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table)


def lit(value: str | int) -> Node:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def matches(expression: Node, pattern: str) -> Node:
    return exp.RegexpLike(this=expression, expression=lit(pattern))


def only(expression: Node, pattern: str, dialect: str) -> Node:
    """An anchored match of a pattern ending in a digit that means the same on every engine.
    On DuckDB (RE2) and PostgreSQL `$` is the end of the text; Spark's (Java's) `$` also matches
    before a final line break (`'12.50\n'` would pass), so there the text's last character
    must also be a digit (equality, not a range a collation could widen). The second test is
    Spark's alone: it was a tenth of DuckDB's 10M-row pass."""
    assert pattern.endswith(("[0-9]{2}$", "[0-9]{2})?$")), pattern
    if dialect != "spark":
        return matches(expression, pattern)
    last = exp.Substring(this=expression, start=exp.Length(this=expression), length=lit(1))
    return both(matches(expression, pattern), one_of(last, [str(d) for d in range(10)]))


def code(expression: Node, values: Sequence[str]) -> Node:
    """The position of the text among `values` (from 0), NULL for any other text: a small
    integer is cheaper to compare and group by than the text."""
    node = exp.Case(this=expression)
    for number, value in enumerate(values):
        node = node.when(lit(value), lit(number))
    return node


def one_of(expression: Node, values: list[str] | tuple[str, ...]) -> Node:
    if not values:
        return exp.false()
    return exp.In(this=expression, expressions=[lit(v) for v in values])


def both(*parts: Node) -> Node:
    return exp.and_(*parts) if len(parts) > 1 else parts[0]


def case(whens: Sequence[tuple[Node, Node]], default: Node | None = None) -> Node:
    node = exp.Case()
    for condition, value in whens:
        node = node.when(condition, value)
    return node.else_(default) if default is not None else node


def exact_sum(pence: Node) -> Node:
    """SUM of BIGINT pence that cannot overflow on any engine: Spark sums BIGINT in BIGINT
    (an error past 2**63 pence with ANSI on), so each is summed as DECIMAL(38, 0)."""
    return exp.Sum(this=exp.cast(pence, "DECIMAL(38, 0)"))


def substr(expression: Node, start: int, length: int) -> Node:
    return exp.Substring(this=expression, start=lit(start), length=lit(length))


@dataclass(frozen=True)
class PoolSql:
    """What the SQL needs of one pool."""

    id: str
    index: int
    elements: dict[str, str]  # element -> the partner it is named against
    rules: list[dict[str, Any]]  # the IR's spending rules, in order


class Rules:
    """The statements for one compiled agreement (the IR), for one dialect (`only`)."""

    def __init__(self, ir: dict[str, Any], dialect: str = "duckdb") -> None:
        assert dialect in DIALECTS, dialect
        self.dialect = dialect
        self.pools = [
            PoolSql(p["id"], i, {e["id"]: e["partner"] for e in p["elements"]}, p["spending"])
            for i, p in enumerate(ir["pools"])
        ]
        self.partners = [p["id"] for p in ir["partners"]]
        # Element codes: 0 for none, then every pool's elements from 1 (`element_code`).
        self.elements = sorted({e for pool in self.pools for e in pool.elements})
        self.condition_fields = {
            f for pool in self.pools for r in pool.rules if r["where"] for f in _fields(r["where"])
        }

    # ------------------------------------------------------------ ledger checks
    def valid_date(self) -> Node:
        """An ISO date that exists (years 0001 to 9999), judged on its digits as text: no CAST
        that could fail (engines do not promise to skip it for rows another test excludes)."""
        text = col("date_text")
        year, month, day = substr(text, 1, 4), substr(text, 6, 2), substr(text, 9, 2)
        century, yy = substr(text, 1, 2), substr(text, 3, 2)
        fourths = [f"{n:02d}" for n in range(0, 100, 4)]
        leap = exp.or_(
            both(one_of(yy, fourths), exp.NEQ(this=yy, expression=lit("00"))),
            both(exp.EQ(this=yy, expression=lit("00")), one_of(century, fourths)),
        )
        last = case(
            [
                (
                    exp.EQ(this=month, expression=lit("02")),
                    case([(leap, lit("29"))], lit("28")),
                ),
                (one_of(month, ["04", "06", "09", "11"]), lit("30")),
            ],
            lit("31"),
        )
        return both(
            only(text, DATE_RE, self.dialect),
            exp.NEQ(this=year, expression=lit("0000")),
            exp.Between(this=month, low=lit("01"), high=lit("12")),
            exp.GTE(this=day, expression=lit("01")),
            exp.LTE(this=day, expression=last),
        )

    # The coded texts (`stage`): each NULL for a text the reference would not read as is.
    def pool_index(self) -> Node:
        return code(col("pool"), [p.id for p in self.pools])

    @staticmethod
    def kind_code() -> Node:
        return code(col("kind"), KINDS)  # 0 is a spend

    def element_code(self) -> Node:
        return code(col("element"), ["", *self.elements])

    def partner_code(self) -> Node:
        return code(col("partner"), ["", *self.partners])

    @staticmethod
    def plan_code() -> Node:
        """1 within plan, 0 not, NULL for any other text. The commonest texts are tried first
        (a CASE compares each row with one text after another until one is equal): none,
        then `true` and `false` (10M texts of the benchmark's ledger: 0.21 s against 0.25 s
        for `true` first and none last)."""
        node = exp.Case(this=col("in_plan_text"))
        for value in PLAN_ORDER:
            node = node.when(lit(value), lit(1 if value in TRUE else 0))
        return node

    def element_ok(self) -> Node:
        """The element is one of the row's pool's, or none where the pool allows it."""
        element, spend = col("element_code"), exp.EQ(this=col("kind_code"), expression=lit(0))
        node = exp.Case(this=col("pool_index"))
        for pool in self.pools:
            codes = [exp.Literal.number(self.elements.index(e) + 1) for e in sorted(pool.elements)]
            none = exp.EQ(this=element, expression=lit(0))
            ours = exp.In(this=element, expressions=codes) if codes else exp.false()
            node = node.when(
                lit(pool.index),
                exp.or_(both(none, exp.not_(spend)) if pool.elements else none, ours),
            )
        return node.else_(exp.false())

    def clean(self) -> Node:
        """True for a row the SQL reads exactly as the reference reader would accept it (never
        NULL: every code is known before they are compared, and `raw_rows` holds no NULL text);
        the cheap tests first, the regular expression last."""
        known = [
            exp.Is(this=col(c), expression=exp.null()).not_()
            for c in ("pool_index", "kind_code", "element_code", "partner_code", "plan_code")
        ]
        return both(
            exp.Is(this=col("broken"), expression=exp.null()),
            *known,
            self.element_ok(),
            only(col("amount_text"), AMOUNT_RE, self.dialect),
        )

    @staticmethod
    def pence() -> Node:
        """BIGINT pence of an amount that matched AMOUNT_RE (`12500` or `12500.00`: at most 12
        digits, and a point only before exactly two): as DECIMAL(14, 2), exact on every engine,
        times 100, a whole number, which every engine casts to BIGINT alike (they differ only
        on fractions: rounding or truncating). Half the time of taking out the point and
        casting the digits. Nothing else is needed: any other form is left to the reference."""
        exact = exp.cast(col("amount_text"), "DECIMAL(14, 2)")
        return exp.cast(exp.Mul(this=exact, expression=lit(100)), "BIGINT")

    def stage(self) -> exp.Select:
        """Every raw row once: `ok` (all but the date checked), the parsed values of an ok row
        and its coded texts (`pool_index`, `kind_code`, `element_code`, `partner_code`), and
        the texts the reference reader needs for any other (short texts: cheap to keep)."""
        codes = {
            "pool_index": self.pool_index(),
            "kind_code": self.kind_code(),
            "element_code": self.element_code(),
            "partner_code": self.partner_code(),
            "plan_code": self.plan_code(),
        }
        coded = exp.select("*", *[exp.alias_(c, n) for n, c in codes.items()]).from_("raw_rows")
        checked = exp.select("*", exp.alias_(exp.paren(self.clean()), "ok")).from_(
            exp.alias_(exp.paren(self._once(coded)), "coded")
        )
        checked = self._once(checked)
        ok = col("ok")

        def when_ok(value: Node, name: str) -> Node:
            return exp.alias_(case([(ok, value)]), name)

        return exp.select(
            col("line"),
            col("broken"),
            ok,
            col("date_text"),
            col("pool"),
            col("kind"),
            when_ok(self.pence(), "pence"),
            col("element"),
            col("partner"),
            col("approved_by"),
            when_ok(exp.EQ(this=col("plan_code"), expression=lit(1)), "in_plan"),
            *[self.text_field(name) for name in GOOD_TEXT],
            col("amount_text"),
            col("in_plan_text"),
            *[when_ok(col(name), name) for name in list(codes)[:4]],
        ).from_(exp.alias_(exp.paren(checked), "checked"))

    def _once(self, query: exp.Select) -> exp.Select:
        """A subquery whose columns are each computed once. PostgreSQL pulls a plain subquery
        up into the query around it, writing each of its expressions in again wherever its
        column is named: the codes and `ok` (a regular expression) would be computed once for
        each use, twice the time of the whole `staged` at 1M rows. `OFFSET 0` is its usual way
        to keep a subquery whole (the same rows on every engine); DuckDB and Spark compute a
        column once without it."""
        return query.offset(0) if self.dialect == "postgres" else query

    def text_field(self, name: str) -> Node:
        """category: kept only where a condition reads it (else '' for ok rows); supplier:
        always kept, for the split-order check (engine/orders.py)."""
        if name in self.condition_fields or name == "supplier":
            return col(name)
        return exp.alias_(case([(col("ok"), lit(""))], col(name)), name)

    def dates(self) -> exp.Select:
        """Each distinct date text of the rows otherwise ok, judged once: valid, and its DATE."""
        distinct = exp.select("date_text").distinct().from_("staged").where(col("ok"))
        valid = col("valid")
        judged = exp.select("date_text", exp.alias_(exp.paren(self.valid_date()), "valid")).from_(
            exp.alias_(exp.paren(distinct), "distinct_dates")
        )
        return exp.select(
            "date_text",
            valid,
            exp.alias_(case([(valid, exp.cast(col("date_text"), "DATE"))]), "day"),
        ).from_(exp.alias_(exp.paren(judged), "judged"))

    def doubtful(self) -> exp.Select:
        """The rows the reference reader must decide, in ledger order, with their texts: those
        the row checks declined and those whose date is not a date."""
        texts = [col(n, "s") for n in TEXTS]
        bad_date = exp.EQ(this=col("valid", "d"), expression=exp.false())
        return (
            exp.select(col("line", "s"), col("broken", "s"), *texts)
            .from_(exp.alias_(exp.to_table("staged"), "s"))
            .join(
                exp.alias_(exp.to_table("dates"), "d"),
                on=exp.EQ(this=col("date_text", "s"), expression=col("date_text", "d")),
                join_type="left",
            )
            .where(exp.or_(exp.not_(col("ok", "s")), bad_date))
            .order_by(col("line", "s"))
        )

    def good(self) -> exp.Union:
        """The usable rows: the SQL's own and those the reference reader accepted (`checked`)."""
        names = [*GOOD, *GOOD_TEXT]
        ours = (
            exp.select(*[col(n, "d" if n == "day" else "s") for n in names])
            .from_(exp.alias_(exp.to_table("staged"), "s"))
            .join(
                exp.alias_(exp.to_table("dates"), "d"),
                on=exp.EQ(this=col("date_text", "s"), expression=col("date_text", "d")),
            )
            .where(both(col("ok", "s"), col("valid", "d")))
        )
        theirs = exp.select(*names).from_("checked_rows")
        return exp.union(ours, theirs, distinct=False)

    # ------------------------------------------------------------ aggregation
    def net(self) -> exp.Select:
        signed = case(
            [(exp.EQ(this=col("kind"), expression=lit("spend")), col("pence"))],
            exp.Neg(this=col("pence")),
        )
        return (
            exp.select("pool", "element", "day", exp.alias_(exact_sum(signed), "net"))
            .from_("good")
            .where(one_of(col("kind"), ["spend", "income"]))
            .group_by("pool", "element", "day")
        )

    def forecasts(self) -> exp.Select:
        return (
            exp.select("pool", "day", "line", "pence")
            .from_("good")
            .where(exp.EQ(this=col("kind"), expression=lit("forecast")))
            .order_by("line")
        )

    def received(self) -> exp.Select:
        return (
            exp.select("pool", "partner", "day", exp.alias_(exact_sum(col("pence")), "pence"))
            .from_("good")
            .where(exp.EQ(this=col("kind"), expression=lit("contribution")))
            .group_by("pool", "partner", "day")
        )

    def days(self) -> exp.Select:
        return exp.select("day").distinct().from_("good").order_by("day")

    def counts(self) -> exp.Select:
        return exp.select(
            exp.alias_(exp.Count(this=exp.Star()), "read"),
            exp.alias_(exp.Sum(this=case([(col("ok"), lit(1))], lit(0))), "ok"),
        ).from_("staged")

    # ------------------------------------------------------------ spending rules
    def field(self, pool: PoolSql, name: str) -> Node:
        """A transaction field as the conditions see it (LANGUAGE.md §5)."""
        if name == "kind":
            return lit("spend")
        if name == "partner":
            by_element = (
                case(
                    [
                        (exp.EQ(this=col("element"), expression=lit(e)), lit(p))
                        for e, p in pool.elements.items()
                    ],
                    lit(""),
                )
                if pool.elements
                else lit("")
            )
            return case(
                [(exp.NEQ(this=col("partner"), expression=lit("")), col("partner"))], by_element
            )
        if name in ("category", "element", "supplier"):
            return col(name)
        return lit("")

    def condition(self, pool: PoolSql, node: dict[str, Any]) -> Node:
        op = node["op"]
        if op in ("in", "not-in"):
            test = one_of(self.field(pool, node["field"]), list(node["values"]))
            return exp.paren(exp.not_(test)) if op == "not-in" else test
        if op == "not":
            return exp.not_(exp.paren(self.condition(pool, node["operand"])))
        parts = [exp.paren(self.condition(pool, o)) for o in node["operands"]]
        if not parts:
            return exp.true() if op == "all" else exp.false()
        return exp.paren(exp.and_(*parts) if op == "all" else exp.or_(*parts))

    def applies(self, pool: PoolSql, rule: dict[str, Any]) -> Node:
        parts: list[Node] = []
        if rule["limit"] is not None:
            parts.append(exp.LTE(this=col("pence"), expression=lit(parse_amount(rule["limit"]))))
        if rule["within_plan"]:
            parts.append(col("in_plan"))
        if rule["where"] is not None:
            parts.append(self.condition(pool, rule["where"]))
        return both(*parts) if parts else exp.true()

    def rule_number(self, coded: bool = False) -> Node:
        """The number of the first rule of the row's pool that applies (NULL when none does);
        `coded`: the pool known by its `pool_index` (in `staged`), not by its text."""
        whens = []
        for pool in self.pools:
            inner = [(self.applies(pool, r), lit(r["number"])) for r in pool.rules]
            if inner:
                which = (
                    exp.EQ(this=col("pool_index"), expression=lit(pool.index))
                    if coded
                    else exp.EQ(this=col("pool"), expression=lit(pool.id))
                )
                whens.append((which, case(inner)))
        return case(whens) if whens else exp.null()

    def payer(self) -> Node:
        """The spend's partner: the row's, else its element's ('' for none)."""
        return case(
            [
                (exp.EQ(this=col("pool"), expression=lit(p.id)), self.field(p, "partner"))
                for p in self.pools
            ],
            lit(""),
        )

    def spends(self) -> exp.Select:
        """Each spend above zero, with its pool's index and the rule that applies to it."""
        return (
            exp.select(
                "line",
                "pence",
                "day",
                "approved_by",
                "in_plan",
                "supplier",
                "element",
                exp.alias_(self.payer(), "who"),
                exp.alias_(self.pool_index(), "pool_index"),
                exp.alias_(exp.func("COALESCE", self.rule_number(), lit(0)), "rule"),
            )
            .from_("good")
            .where(
                both(
                    exp.EQ(this=col("kind"), expression=lit("spend")),
                    exp.GT(this=col("pence"), expression=lit(0)),
                )
            )
        )

    def statements(self) -> dict[str, Node]:
        """The named statements, in the order a run executes them."""
        return {
            "staged": self.stage(),
            "dates": self.dates(),
            "doubtful": self.doubtful(),
            "good": self.good(),
            "net": self.net(),
            "forecasts": self.forecasts(),
            "received": self.received(),
            "days": self.days(),
            "spends": self.spends(),
        }


def _fields(node: dict[str, Any]) -> set[str]:
    if "field" in node:
        return {node["field"]}
    if "operand" in node:
        return _fields(node["operand"])
    return {f for o in node.get("operands", []) for f in _fields(o)}


def render(ir: dict[str, Any], dialect: str = "duckdb", warnings: Sequence[str] = ()) -> str:
    """Every statement as SQL text for `dialect`, each a view under a comment naming it, so the
    text runs as printed once `raw_rows` exists; a header says what it reads, what each rule
    number in `spends` stands for and the `warnings` on the spending clauses (W701: a rule
    that can never apply is in the SQL all the same)."""
    from .shared import CHECKED_TYPES

    out = [
        f"-- The spending rules and ledger checks of `{ir['agreement']['id']}` as SQL ({dialect}),",
        "-- one view each, in the order a run builds them. They run as printed once `raw_rows`",
        "-- exists: one row for each ledger row, with `line` (BIGINT: the row's physical line),",
        "-- `broken` (BIGINT: NULL, or how many fields a row of the wrong width has) and the",
        f"-- texts {', '.join(TEXTS[:5])},",
        f"-- {', '.join(TEXTS[5:])}, each as written, '' where empty (never NULL).",
        "-- `checked_rows` holds the rows `doubtful` lists as the reference reader accepted them",
        "-- (`£1,250.00`, `Spend`): a run fills it between statements; here it is an empty view,",
        "-- so such rows are left out. Amounts and limits are in pence (£50,000 is 5000000).",
        "-- `spends.rule` is the number of the pool's rule that applies (0: none); who may approve",
        "-- is judged after, from the rule's approvers (LANGUAGE.md §5):",
    ]
    for index, pool in enumerate(ir["pools"]):  # (pool_index is the pool's place, as Rules)
        for rule in pool["spending"]:
            span = rule["span"]
            out.append(
                f"--   pool_index {index} ({pool['id']}), rule {rule['number']}: {rule['text']} "
                f"({span['file']}:{span['line']})"
            )
    out.extend(f"-- warning {w}" for w in warnings)
    empty = exp.select(
        *[
            exp.alias_(exp.cast(exp.null(), kind), name)
            for name, kind in zip((*GOOD, *GOOD_TEXT), CHECKED_TYPES, strict=True)
        ]
    ).where(exp.EQ(this=lit(1), expression=lit(0)))
    views = {"checked_rows": empty, **Rules(ir, dialect).statements()}
    for name, tree in views.items():
        body = tree.sql(dialect=dialect, pretty=True)
        out.append(f"\n-- {name}\nCREATE TEMPORARY VIEW {name} AS\n{body};")
    return "\n".join(out) + "\n"
