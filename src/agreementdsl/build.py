"""From the positioned YAML tree to the typed model, parsing every clause on the way.

Tolerant by design: a part that is malformed (already reported by the schema) is left out or
None, so that the checks can still report every other problem in the file in one run.
"""

from __future__ import annotations

import re
from typing import Any

from . import model as m
from . import streams
from .calendar import parse_year_label
from .diagnostics import Diagnostic, error
from .grammar import ClauseText, build_clause
from .loader import YNode
from .source import SourceFile, Span

CLAUSE_KEYS = ("risk_share", "spending", "reporting", "disputes")
TARGET = re.compile(r"^\s*(>=|<=|>|<|=)\s*-?[0-9]+(\.[0-9]+)?\s*$")  # as the schema's pattern


def _text(node: YNode | None) -> str | None:
    return node.value if node is not None and isinstance(node.value, str) else None


def _items(node: YNode | None) -> list[tuple[str, YNode]]:
    return list(node.value.items()) if node is not None and node.is_map else []


def _named(node: YNode | None) -> m.Named | None:
    text = _text(node)
    return m.Named(text, node.span) if text is not None and node is not None else None


def _texts(node: YNode | None) -> tuple[str, ...]:
    """The non-empty texts of a YAML sequence (services, metrics); () for anything else."""
    if node is None or not node.is_seq:
        return ()
    return tuple(t for t in (_text(i) for i in node.value) if t)


def _key_span(node: YNode) -> Span:
    return node.key_span or node.span


def clause_text(node: YNode, source: SourceFile) -> ClauseText:
    """The DSL text of a scalar, with a map from its (line, col) back into the YAML file."""
    text = str(node.value)
    start_line, start_col = node.span.line, node.span.col
    if node.style in ("|", ">"):
        content = text.split("\n")
        indent = 0
        for i, line in enumerate(content):
            if line.strip():
                file_line = source.line_text(start_line + 1 + i)
                indent = max(
                    0,
                    len(file_line)
                    - len(file_line.lstrip(" "))
                    - (len(line) - len(line.lstrip(" "))),
                )
                break

        def block_origin(line: int, col: int) -> tuple[int, int]:
            return start_line + line, indent + col

        return ClauseText(text, source.path, block_origin, folded=node.style == ">")
    offset = 1 if node.style in ('"', "'") else 0
    multiline = node.span.end_line > node.span.line

    def inline_origin(line: int, col: int) -> tuple[int, int]:
        return start_line + line - 1, start_col + offset + col - 1

    return ClauseText(text, source.path, inline_origin, folded=multiline)


class ModelBuilder:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.failed = False  # whether the last clause built had a syntax error

    def clause(self, kind: str, node: YNode | None) -> Any:
        self.failed = False
        if node is None or not isinstance(node.value, str):
            return None
        if not "".join(line.split("#")[0] for line in node.value.split("\n")).strip():
            self.diagnostics.append(
                error("E202", _key_span(node), f"the {kind.replace('_', ' ')} clause is empty")
            )
            self.failed = True
            return None
        if kind in CLAUSE_KEYS and (
            node.style == ">"
            or (
                node.style != "|" and node.span.end_line > node.span.line and "\n" not in node.value
            )
        ):
            self.diagnostics.append(
                error(
                    "E203",
                    _key_span(node),
                    f"the {kind.replace('_', ' ')} clause is written so that YAML joins its lines into one",
                    f"start it with `{kind}: |` so each rule keeps its own line",
                )
            )
            self.failed = True
            return None
        result, diags = build_clause(kind, clause_text(node, self.source))
        self.diagnostics.extend(diags)
        self.failed = result is None
        return result

    def agreement(self, tree: YNode) -> m.Agreement:
        head = tree.get("agreement")
        termination = head.get("termination") if head else None
        notice = termination.get("notice") if termination else None
        exit_terms = self._exit(termination)
        return m.Agreement(
            id=_text(head.get("id") if head else None) or "",
            title=_text(head.get("title") if head else None) or "",
            basis=_text(head.get("basis") if head else None) or "",
            commencement=_text(head.get("commencement") if head else None),
            expiry=_text(head.get("expiry") if head else None),
            financial_year_start=_text(head.get("financial_year_start") if head else None)
            or "04-01",
            aims=_text(head.get("aims") if head else None),
            review=_text(head.get("review") if head else None),
            termination_notice=self._notice(notice),
            partners=tuple(self._partners(tree.get("partners"))),
            roles=tuple(self._roles(tree.get("roles"))),
            pools=tuple(
                self._pool(pid, node) for pid, node in _items(tree.get("pools")) if node.is_map
            ),
            outcomes=tuple(self._outcomes(tree.get("outcomes"))),
            path=self.source.path,
            span=tree.span,
            key_spans={k: v for k, v in tree.keys.items()}
            | {f"agreement.{k}": v for k, v in (head.keys.items() if head else [])}
            | (
                {"agreement.termination.notice": termination.keys["notice"]}
                if termination is not None and termination.is_map and "notice" in termination.keys
                else {}
            ),
            exit=exit_terms,
            programme=_text(head.get("programme") if head else None),
            framework=_text(head.get("framework") if head else None),
            signed=_text(head.get("signed") if head else None),
            non_pooled=tuple(self._non_pooled(tree.get("non_pooled"))),
            payments=_payments(head.get("payments") if head else None),
            settlement_within=self._notice(_within(head.get("settlement") if head else None)),
            versions=_versions(head),
            provisions=_provisions(tree.get("provisions")),
        )

    def _notice(self, node: YNode | None) -> m.Duration | None:
        text = _text(node)
        if text is None or node is None:
            return None
        from .calendar import parse_duration

        parsed = parse_duration(text)
        if parsed is None:
            return None
        return m.Duration(parsed.count, parsed.unit, node.span)  # type: ignore[arg-type]

    def _partners(self, node: YNode | None) -> list[m.Partner]:
        return [
            m.Partner(
                pid,
                _text(p.get("name")) or pid,
                _text(p.get("kind")) or "",
                _key_span(p),
                _text(p.get("short_name")),
                _text(p.get("tier")),
            )
            for pid, p in _items(node)
            if p.is_map
        ]

    def _roles(self, node: YNode | None) -> list[m.Role]:
        roles = []
        for rid, r in _items(node):
            if not r.is_map:
                continue
            members = r.get("members")
            roles.append(
                m.Role(
                    rid,
                    _text(r.get("title")) or rid,
                    _named(r.get("partner")),
                    _key_span(r),
                    tuple(n for n in (_named(i) for i in members.value) if n)
                    if members is not None and members.is_seq
                    else (),
                    _text(r.get("statutory")),
                )
            )
        return roles

    def _pool(self, pid: str, node: YNode) -> m.Pool:
        services = node.get("services")
        unparsed = set()
        clauses = {}
        for key in ("spending", "reporting", "disputes"):
            clauses[key] = tuple(self.clause(key, node.get(key)) or ())
            if self.failed:
                unparsed.add(key)
        rules = tuple(r for r in clauses["spending"] if isinstance(r, m.SpendingRule))
        only_named = next((r for r in clauses["spending"] if isinstance(r, m.OnlyNamed)), None)
        borne = next((r for r in clauses["spending"] if isinstance(r, m.BorneByPartner)), None)
        risk_share_years = self._risk_share_years(node.get("risk_share"))
        risk_share = (
            risk_share_years[0][1] if risk_share_years else self._risk_share(node.get("risk_share"))
        )
        if self.failed:
            unparsed.add("risk_share")
        exit_terms = self._exit(node.get("termination"))
        schemes = tuple(self._schemes(node.get("schemes")))
        elements = [
            m.Element(
                eid,
                _text(e.get("name")) or eid,
                _named(e.get("partner")) or m.Named("", e.span),
                _key_span(e),
            )
            for eid, e in _items(node.get("elements"))
            if e.is_map
        ]
        budgets = self._budgets(node.get("budgets"))
        self._schemes_as_elements(schemes, elements, budgets)
        return m.Pool(
            id=pid,
            name=_text(node.get("name")) or pid,
            host=_named(node.get("host")),
            manager=_named(node.get("manager")),
            aims=_text(node.get("aims")),
            services=_texts(services),
            elements=tuple(elements),
            contributions=tuple(self._contributions(node.get("contributions"))),
            budgets=tuple(budgets),
            risk_share=risk_share,
            spending=rules,
            reporting=clauses["reporting"],
            disputes=clauses["disputes"],
            span=_key_span(node),
            only_named=only_named,
            borne=borne,
            risk_share_years=tuple(risk_share_years),
            exit=exit_terms,
            schemes=schemes,
            bcf=self._bcf(node.get("bcf")),
            payments=_payments(node.get("payments")),
            stream_names=streams.stream_names(node.get("streams")),
            of_which=streams.of_which(self, node.get("of_which")),
            forecast=streams.forecast_method(
                node.get("forecast"), [e.id for e in elements], self.diagnostics
            ),
            clause_spans={k: v for k, v in node.keys.items()},
            unparsed=frozenset(unparsed),
        )

    def _exit(self, node: YNode | None) -> m.Exit | None:
        """`on_exit` (a waterfall for the balance at the exit date) and `assets` (text)."""
        if node is None or not node.is_map:
            return None
        on_exit, assets = node.get("on_exit"), node.get("assets")
        if on_exit is None and assets is None:
            return None
        return m.Exit(self._risk_share(on_exit), _text(assets), _key_span(node))

    def _risk_share_years(self, node: YNode | None) -> list[tuple[str, m.RiskShare]]:
        """`risk_share` as a map of financial year to waterfall (empty for one clause)."""
        if node is None or not node.is_map:
            return []
        out = []
        for year, value in _items(node):
            if parse_year_label(year) is None:
                self.diagnostics.append(
                    error(
                        "E501",
                        _key_span(value),
                        f"`{year}` is not a financial year",
                        "write the year a risk share starts from like 2005/06",
                    )
                )
                continue
            waterfall = self._risk_share(value)
            if waterfall is not None:
                out.append((year, waterfall))
        return out

    def _risk_share(self, node: YNode | None) -> m.RiskShare | None:
        sections = self.clause("risk_share", node)
        if sections is None or node is None:
            return None
        return m.RiskShare(tuple(sections), _key_span(node))

    def _contributions(self, node: YNode | None) -> list[m.YearContributions]:
        years = []
        for year, row in _items(node):
            entries = []
            for pid, value in _items(row):
                entries.append(streams.contribution(self, pid, value))
            years.append(m.YearContributions(year, tuple(entries), _key_span(row)))
        return years

    def _money_map(
        self, node: YNode | None, what: str = "this"
    ) -> list[tuple[str, int | None, Span]]:
        """(key, pence, span) from a map of keys (years, elements) to money; E508 otherwise."""
        out: list[tuple[str, int | None, Span]] = []
        for key, value in _items(node):
            expr = self.clause("contribution", value) if _text(value) is not None else None
            pence = expr.pence if isinstance(expr, m.FixedAmount) else None
            if expr is not None and pence is None:
                self.diagnostics.append(
                    error(
                        "E508",
                        value.span,
                        f"{what} must be an amount of money",
                        'write it like "£1,200,000"',
                    )
                )
            out.append((key, pence, _key_span(value)))
        return out

    def _schemes(self, node: YNode | None) -> list[m.Scheme]:
        out = []
        for sid, s in _items(node):
            if not s.is_map:
                continue
            metrics = s.get("metrics")
            out.append(
                m.Scheme(
                    sid,
                    _text(s.get("name")) or sid,
                    _named(s.get("commissioner")) or m.Named("", s.span),
                    _text(s.get("provider")),
                    tuple((y, p) for y, p, _ in self._money_map(s.get("spend"))),
                    _texts(metrics),
                    _key_span(s),
                )
            )
        return out

    def _schemes_as_elements(
        self, schemes: tuple[m.Scheme, ...], elements: list[m.Element], budgets: list[m.YearBudgets]
    ) -> None:
        """Each scheme is an element named against its commissioner, its spend that element's
        budget for the year (E953 where an element or a year's budgets say it twice)."""
        taken = {e.id for e in elements}
        stated = {b.year for b in budgets}
        for scheme in schemes:
            if scheme.id in taken:
                self.diagnostics.append(
                    error(
                        "E953",
                        scheme.span,
                        f"`{scheme.id}` is both an element and a scheme of the pool",
                        "a scheme is an element already: remove it from `elements:`",
                    )
                )
                continue
            elements.append(m.Element(scheme.id, scheme.name, scheme.commissioner, scheme.span))
        by_year: dict[str, list[tuple[m.Named, int | None]]] = {}
        for scheme in schemes:
            for year, pence in scheme.spend:
                by_year.setdefault(year, []).append((m.Named(scheme.id, scheme.span), pence))
        for year, entries in by_year.items():
            if year in stated:
                span = next(b.span for b in budgets if b.year == year)
                self.diagnostics.append(
                    error(
                        "E953",
                        span,
                        f"the {year} budgets are given twice: in `budgets:` and in the schemes' `spend:`",
                        "give each scheme's budget once, as its `spend:`",
                    )
                )
                continue
            budgets.append(m.YearBudgets(year, tuple(entries), schemes[0].span))

    def _bcf(self, node: YNode | None) -> m.BcfFacts | None:
        if node is None or not node.is_map:
            return None
        dfg = node.get("dfg")
        return m.BcfFacts(
            _named(node.get("nhs_minimum")),
            tuple(self._money_map(node.get("adult_social_care"))),
            bool(dfg is not None and dfg.value is True),
            _key_span(node),
        )

    def _non_pooled(self, node: YNode | None) -> list[m.NonPooled]:
        out = []
        for item in node.value if node is not None and node.is_seq else []:
            if not item.is_map:
                continue
            out.append(
                m.NonPooled(
                    _text(item.get("name")) or "",
                    _named(item.get("partner")) or m.Named("", item.span),
                    tuple((y, p) for y, p, _ in self._money_map(item.get("amounts"))),
                    item.span,
                )
            )
        return out

    def _budgets(self, node: YNode | None) -> list[m.YearBudgets]:
        return [
            m.YearBudgets(
                year,
                tuple(
                    (m.Named(eid, span), pence)
                    for eid, pence, span in self._money_map(row, "an element budget")
                ),
                _key_span(row),
            )
            for year, row in _items(node)
        ]

    def _outcomes(self, node: YNode | None) -> list[m.Outcome]:
        out = []
        for item in node.value if node is not None and node.is_seq else []:
            if not item.is_map:
                continue
            target_node = item.get("target")
            target = None
            if _text(target_node) is not None and TARGET.match(str(_text(target_node))):
                target = self.clause("target", target_node)
            out.append(
                m.Outcome(
                    id=_text(item.get("id")) or "",
                    pool=_named(item.get("pool")),
                    measure=_text(item.get("measure")) or "",
                    target=target,
                    by=_text(item.get("by")),
                    reported=_text(item.get("reported")),
                    span=item.span,
                    id_span=item.keys.get("id", item.span),
                )
            )
        return out


def _within(node: YNode | None) -> YNode | None:
    """The `within:` of a mapping such as `settlement: { within: 30 days }`."""
    return node.get("within") if node is not None and node.is_map else None


def _versions(head: YNode | None) -> tuple[m.Version, ...]:
    """`versions:` (the history, oldest first), then `version:` as the current one if the
    history does not already end with it."""
    if head is None:
        return ()
    out: list[m.Version] = []
    history = head.get("versions")
    for item in history.value if history is not None and history.is_seq else []:
        if item.is_map and _text(item.get("version")):
            out.append(
                m.Version(
                    str(_text(item.get("version"))),
                    _text(item.get("date")),
                    _text(item.get("change")),
                )
            )
    current = _text(head.get("version"))
    if current and (not out or out[-1].number != current):
        out.append(m.Version(current, None, None))
    return tuple(out)


def _provisions(node: YNode | None) -> m.Provisions | None:
    """`provisions:` as texts by matter, with addresses, signatories and execution by partner,
    the terms of an expert determination and each body's constitution."""
    if node is None or not node.is_map:
        return None
    matters = {k: " ".join(t.split()) for k, v in _items(node) if (t := _text(v)) is not None}
    by_partner = lambda key: {  # noqa: E731
        pid: " ".join(t.split()) for pid, v in _items(node.get(key)) if (t := _text(v))
    }
    spans = {k: _key_span(v) for k, v in _items(node)}
    for key in ("notices", "signatories", "execution", "constitution"):
        spans |= {f"{key}.{pid}": _key_span(v) for pid, v in _items(node.get(key))}
    constitution = {
        rid: {k: " ".join(t.split()) for k, v in _items(terms) if (t := _text(v))}
        for rid, terms in _items(node.get("constitution"))
    }
    return m.Provisions(
        matters,
        by_partner("notices"),
        by_partner("signatories"),
        by_partner("execution"),
        by_partner("expert"),
        constitution,
        _key_span(node),
        spans,
    )


def _payments(node: YNode | None) -> dict[str, str] | None:
    """`payments: { cadence, within }` as text (the schema has checked the forms)."""
    if node is None or not node.is_map:
        return None
    return {k: v for k in ("cadence", "within") if (v := _text(node.get(k))) is not None}
