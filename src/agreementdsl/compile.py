"""Compiling an agreement to its IR: the one versioned JSON that the engine, renderer and diff read.

Everything is resolved here: contributions are evaluated (with their working), `to host` names
the host partner, spending authority is ranked, and every rule keeps the span it came from and
its text in the clause's own words.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from . import model as m
from .conditions import describe, describe_rule
from .contributions import evaluate_contributions, evaluate_streams
from .money import format_money, format_percent, format_pounds

IR_VERSION = 1


def source_of(node: dict[str, Any] | None) -> str | None:
    """`file:line` of an IR node, or None when it carries no span."""
    span = (node or {}).get("span")
    return f"{span['file']}:{span['line']}" if span else None


def _span(span: m.Span) -> dict[str, object]:
    return span.to_json()


def _percent(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _duration(d: m.Duration | None) -> dict[str, Any] | None:
    if d is None:
        return None
    unit = d.unit.replace("_", " ")
    words = f"{d.count} {unit if d.count != 1 else unit.removesuffix('s')}"
    return {"count": d.count, "unit": d.unit, "text": words}


def _condition(c: m.Condition) -> dict[str, Any]:
    if isinstance(c, m.Comparison):
        return {
            "op": "not-in" if c.negated else "in",
            "field": c.field.name,
            "values": [v.name for v in c.values],
            "span": _span(c.span),
        }
    if isinstance(c, m.Not):
        return {"op": "not", "operand": _condition(c.operand)}
    return {
        "op": "all" if isinstance(c, m.All) else "any",
        "operands": [_condition(o) for o in c.operands],
    }


def authority_ranks(rules: tuple[m.SpendingRule, ...]) -> dict[str, int]:
    """Each role's rank of authority within one spending clause (LANGUAGE.md §5), 1 lowest.

    Roles are ordered by the highest limit of any rule naming them (`above` highest of all);
    among equal limits the role named later ranks higher.
    """
    best: dict[str, tuple[int, int]] = {}
    position = 0
    for rule in rules:
        limit = rule.limit if rule.limit is not None else 10**30
        for approver in rule.approvers:
            position += 1
            current = best.get(approver.name)
            key = (limit, position)
            if current is None or key > current:
                best[approver.name] = key
    ordered = sorted(best, key=lambda role: best[role])
    return {role: rank for rank, role in enumerate(ordered, start=1)}


def stand_ins(
    ranks: dict[str, int], officer_of: dict[str, str | None], only_named: bool
) -> dict[str, list[str]]:
    """For each role of a spending clause, the roles whose approval also meets a need for it.

    LANGUAGE.md §5 (0.3): a role of higher rank stands in for a lower one only where both are
    bodies of the partnership, or the higher is a body and the lower an officer, or both are
    officers of the same partner. With `only named approvers` no role stands in for another.
    The lists run from the lowest rank up; a role always stands in for itself (not listed).
    """
    out: dict[str, list[str]] = {}
    for role, rank in ranks.items():
        lower_partner = officer_of.get(role)
        out[role] = [
            higher
            for higher in sorted(ranks, key=ranks.__getitem__)
            if not only_named
            and ranks[higher] > rank
            and (officer_of.get(higher) is None or officer_of.get(higher) == lower_partner)
        ]
    return out


def _allocation(alloc: m.Allocation, host: str | None) -> dict[str, Any]:
    if isinstance(alloc, m.ToPartner):
        written = alloc.partner.name
        partner = host if written == m.HOST else written
        return {"type": "to", "partner": partner, "as_written": written}
    if isinstance(alloc, m.ByOwnElements):
        return {"type": "by-own-elements", "basis": "gross" if alloc.gross else "net"}
    if isinstance(alloc, m.Split):
        return {
            "type": "split",
            "shares": [{"partner": n.name, "percent": _percent(p)} for n, p in alloc.shares],
        }
    names = {
        m.ToLeaver: "to-leaver",
        m.ByContribution: "by-contribution",
        m.ByElement: "by-element",
        m.Equally: "equally",
        m.CarriedForward: "carried-forward",
    }
    return {"type": names[type(alloc)]}


def risk_share_for(pool: dict[str, Any], year: str) -> dict[str, Any] | None:
    """The waterfall of a pool's IR that applies in a financial year (`2006/07`): the last
    stated for that year or before; the first stated for a year before all of them; the one
    clause when `risk_share` is not stated per year."""
    years = pool.get("risk_share_years") or []
    if not years:
        waterfall: dict[str, Any] | None = pool["risk_share"]
        return waterfall
    start = int(year[:4])
    applying = [y for y in years if int(y["from"][:4]) <= start] or years[:1]
    found: dict[str, Any] = applying[-1]["waterfall"]
    return found


def step_text(step: m.RiskStep) -> str:
    """A waterfall step in the clause's own words."""
    words: list[str] = [step.kind]
    if isinstance(step.quantity, int):
        words.append(format_money(step.quantity, always_pence=False))
    elif isinstance(step.quantity, m.PoolPercent):
        words.append(f"{format_percent(step.quantity.percent)} of pool")
    a = step.allocation
    if isinstance(a, m.ToPartner):
        words.append(f"to {a.partner.name}")
    elif isinstance(a, m.Split):
        words.append("split " + ", ".join(f"{n.name} {format_percent(p)}" for n, p in a.shares))
    elif isinstance(a, m.ToLeaver):
        words.append("to leaving partner")
    elif isinstance(a, m.ByOwnElements):
        words.append("by own elements " + ("gross" if a.gross else "net"))
    else:
        words.append(_allocation(a, None)["type"].replace("-", " "))
    return " ".join(words)


def _risk(pool: m.Pool, waterfall: m.RiskShare | None = None) -> dict[str, Any] | None:
    """A waterfall of the pool (its risk share unless another is given), `host` resolved."""
    waterfall = waterfall if waterfall is not None else pool.risk_share
    if waterfall is None:
        return None
    host = pool.host.name if pool.host else None
    out: dict[str, Any] = {}
    for section in waterfall.sections:
        out[section.direction] = {
            "span": _span(section.span),
            "steps": [
                {
                    "number": i,
                    "kind": step.kind,
                    "amount": format_pounds(step.quantity)
                    if isinstance(step.quantity, int)
                    else None,
                    "pool_percent": _percent(step.quantity.percent)
                    if isinstance(step.quantity, m.PoolPercent)
                    else None,
                    "allocation": _allocation(step.allocation, host),
                    "text": step_text(step),
                    "span": _span(step.span),
                }
                for i, step in enumerate(section.steps, start=1)
            ],
        }
    return out


def _basis(expr: m.ContributionExpr | None, year: str) -> dict[str, Any] | None:
    """How a relative contribution is built: its base year and adjustment (None for money)."""
    if not isinstance(expr, m.Relative):
        return None
    base = expr.base_year
    if base is None:
        start = int(year[:4]) - 1
        base = f"{start}/{(start + 1) % 100:02d}"
    return {
        "year": base,
        "sign": "+" if expr.sign > 0 else "-",
        "percent": _percent(expr.percent) if expr.percent is not None else None,
        "amount": format_pounds(expr.pence) if expr.pence is not None else None,
    }


def _streams(
    pool: m.Pool, c: m.Contribution, year: str, values: dict[tuple[str, str, str], Any]
) -> list[dict[str, Any]]:
    """A partner's streams for the year; a stream-less contribution is one stream (id None)."""
    names = dict(pool.stream_names)
    if not c.streams:
        return []
    out = []
    for s in c.streams:
        ev = values.get((year, c.partner.name, s.id))
        out.append(
            {
                "stream": s.id,
                "name": names.get(s.id, s.id),
                "amount": format_pounds(ev.pence) if ev is not None else None,
                "expression": s.text,
                "basis": _basis(s.expr, year),
                "working": ev.working if ev is not None else None,
                "span": _span(s.span),
            }
        )
    return out


def _contributions(pool: m.Pool) -> list[dict[str, Any]]:
    values, _ = evaluate_contributions(pool)
    stream_values = evaluate_streams(pool)
    years = []
    for year in pool.contributions:
        evaluated = values.get(year.year, {})
        rows: list[dict[str, Any]] = [
            {
                "partner": c.partner.name,
                "amount": format_pounds(evaluated[c.partner.name].pence)
                if c.partner.name in evaluated
                else None,
                "expression": c.text,
                "basis": _basis(c.expr, year.year),
                "working": evaluated[c.partner.name].working
                if c.partner.name in evaluated
                else None,
                "span": _span(c.span),
            }
            for c in year.contributions
        ]
        for row, c in zip(rows, year.contributions, strict=True):
            row["streams"] = _streams(pool, c, year.year, stream_values) or [
                {
                    "stream": None,
                    "name": None,
                    **{k: row[k] for k in ("amount", "expression", "basis", "working", "span")},
                }
            ]
        total = sum(v.pence for v in evaluated.values())
        years.append(
            {
                "year": year.year,
                "total": format_pounds(total),
                "partners": rows,
                "span": _span(year.span),
            }
        )
    return years


def _trigger(t: m.Trigger | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "forecast": t.forecast,
        "direction": t.direction,
        "percent": _percent(t.percent) if t.percent is not None else None,
        "amount": format_pounds(t.pence) if t.pence is not None else None,
        "span": _span(t.span),
    }


def _exit(pool: m.Pool, terms: m.Exit | None, where: str) -> dict[str, Any] | None:
    """The exit terms that apply to the pool (its own, else the agreement's)."""
    if terms is None:
        return None
    waterfall = _risk(pool, terms.waterfall) if terms.waterfall is not None else None
    return {
        "from": where,
        "waterfall": waterfall,
        "assets": terms.assets,
        "span": _span(terms.span),
    }


PAYMENTS_DEFAULT = {"cadence": "quarterly", "within": "30 days"}


def _pool(
    pool: m.Pool,
    officer_of: dict[str, str | None],
    agreement_exit: m.Exit | None,
    agreement_payments: dict[str, str] | None = None,
    members_of: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    ranks = authority_ranks(pool.spending)
    return {
        "id": pool.id,
        "name": pool.name,
        "host": pool.host.name if pool.host else None,
        "manager": pool.manager.name if pool.manager else None,
        "aims": pool.aims,
        "services": list(pool.services),
        "elements": [
            {"id": e.id, "name": e.name, "partner": e.partner.name, "span": _span(e.span)}
            for e in pool.elements
        ],
        "contributions": _contributions(pool),
        "of_which": _of_which(pool),
        "forecast_method": _forecast_method(pool),
        "budgets": [
            {
                "year": b.year,
                "elements": [
                    {"element": n.name, "amount": format_pounds(p) if p is not None else None}
                    for n, p in b.budgets
                ],
                "span": _span(b.span),
            }
            for b in pool.budgets
        ],
        "schemes": [
            {
                "id": s.id,
                "name": s.name,
                "commissioner": s.commissioner.name,
                "provider": s.provider,
                "spend": [
                    {"year": y, "amount": format_pounds(p) if p is not None else None}
                    for y, p in s.spend
                ],
                "metrics": list(s.metrics),
                "span": _span(s.span),
            }
            for s in pool.schemes
        ],
        "bcf": {
            "nhs_minimum": pool.bcf.nhs_minimum.name if pool.bcf.nhs_minimum else None,
            "adult_social_care": [
                {"year": y, "amount": format_pounds(p) if p is not None else None}
                for y, p, _ in pool.bcf.adult_social_care
            ],
            "dfg": pool.bcf.dfg,
        }
        if pool.bcf
        else None,
        "risk_share": _risk(pool),
        # stated per financial year: each from its year until the next stated (the last applies
        # to every later year); empty when `risk_share` is one clause. See risk_share_for().
        "risk_share_years": [
            {"from": year, "waterfall": _risk(pool, waterfall), "span": _span(waterfall.span)}
            for year, waterfall in sorted(pool.risk_share_years, key=lambda item: int(item[0][:4]))
        ],
        "exit": _exit(pool, pool.exit or agreement_exit, "pool" if pool.exit else "agreement"),
        "payments": {**PAYMENTS_DEFAULT, **(agreement_payments or {}), **(pool.payments or {})},
        "spending": [
            {
                "number": i,
                "limit": format_pounds(r.limit) if r.limit is not None else None,
                "within_plan": r.within_plan,
                "where": _condition(r.where) if r.where is not None else None,
                "where_text": describe(r.where) if r.where is not None else None,
                "approvers": [a.name for a in r.approvers],
                "text": describe_rule(r),
                "span": _span(r.span),
            }
            for i, r in enumerate(pool.spending, start=1)
        ],
        "authority": ranks,
        "only_named_approvers": pool.only_named is not None,
        # `unapproved spend: borne by the partner`: non-compliant spend charged to its partner
        # outside the risk share ("partner"); without the line it stays in the pool ("pool")
        "unapproved_spend": {
            "borne_by": "partner" if pool.borne else "pool",
            "span": _span(pool.borne.span) if pool.borne else None,
        },
        "stand_ins": stand_ins(ranks, officer_of, pool.only_named is not None),
        # roles of the clause held jointly: met by the role, or by all its members together
        "joint_roles": {r: (members_of or {})[r] for r in ranks if r in (members_of or {})},
        "reporting": [
            {
                "number": i,
                "cadence": d.cadence,
                "report": d.report,
                "to": d.to.name,
                "deadline": _duration(d.deadline),
                "trigger": _trigger(d.trigger),
                "span": _span(d.span),
            }
            for i, d in enumerate(pool.reporting, start=1)
        ],
        "disputes": [
            {
                "stage": s.number,
                "holder": s.holder_text,
                "role": s.role.name if s.role else None,
                "kind": s.holder,
                "limit": _duration(s.limit),
                "span": _span(s.span),
            }
            for s in pool.disputes
        ],
        "span": _span(pool.span),
    }


def _provisions(p: m.Provisions | None) -> dict[str, Any]:
    """The whole agreement's other clauses: texts by matter, addresses and signatories by partner."""
    if p is None:
        return {
            "matters": {},
            "notices": {},
            "signatories": {},
            "execution": {},
            "expert": {},
            "constitution": {},
        }
    return {
        "matters": dict(sorted(p.matters.items())),
        "notices": dict(p.notices),
        "signatories": dict(p.signatories),
        "execution": dict(p.execution),
        "expert": dict(p.expert),
        "constitution": {rid: dict(terms) for rid, terms in p.constitution.items()},
    }


def compile_agreement(agreement: m.Agreement, source_text: str) -> dict[str, Any]:
    """The IR of a checked agreement (call only when it has no errors)."""
    officer_of = {r.id: r.partner.name if r.partner else None for r in agreement.roles}
    members_of = {r.id: [n.name for n in r.members] for r in agreement.roles if r.members}
    return {
        "ir_version": IR_VERSION,
        "source": {
            "file": agreement.path,
            "sha256": hashlib.sha256(source_text.encode("utf-8")).hexdigest(),
        },
        "agreement": {
            "id": agreement.id,
            "title": agreement.title,
            "basis": agreement.basis,
            "commencement": agreement.commencement,
            "expiry": agreement.expiry,
            "financial_year_start": agreement.financial_year_start,
            "aims": agreement.aims,
            "review": agreement.review,
            "termination_notice": _duration(agreement.termination_notice),
            "termination_span": _span(
                agreement.key_spans.get("agreement.termination.notice")
                or agreement.key_spans["agreement.termination"]
            )
            if "agreement.termination" in agreement.key_spans
            else None,
            "exit_assets": agreement.exit.assets if agreement.exit else None,
            "programme": agreement.programme,
            "framework": agreement.framework,
            "signed": agreement.signed,
            "settlement_within": _duration(agreement.settlement_within),
            "versions": [
                {"version": v.number, "date": v.date, "change": v.change}
                for v in agreement.versions
            ],
        },
        "provisions": _provisions(agreement.provisions),
        "partners": [
            {
                "id": p.id,
                "name": p.name,
                "short_name": p.short_name,
                "kind": p.kind,
                "tier": p.tier,
                "span": _span(p.span),
            }
            for p in agreement.partners
        ],
        "roles": [
            {
                "id": r.id,
                "title": r.title,
                "partner": r.partner.name if r.partner else None,
                "members": [n.name for n in r.members],
                "statutory": r.statutory,
                "span": _span(r.span),
            }
            for r in agreement.roles
        ],
        "pools": [
            _pool(p, officer_of, agreement.exit, agreement.payments, members_of)
            for p in agreement.pools
        ],
        "non_pooled": [
            {
                "name": n.name,
                "partner": n.partner.name,
                "amounts": [
                    {"year": y, "amount": format_pounds(p) if p is not None else None}
                    for y, p in n.amounts
                ],
                "span": _span(n.span),
            }
            for n in agreement.non_pooled
        ],
        "outcomes": [
            {
                "id": o.id,
                "pool": o.pool.name if o.pool else None,
                "measure": o.measure,
                "target": {"op": o.target.op, "value": str(o.target.value), "text": o.target.text}
                if o.target
                else None,
                "by": o.by,
                "reported": o.reported,
                "span": _span(o.span),
            }
            for o in agreement.outcomes
        ],
    }


def _of_which(pool: m.Pool) -> list[dict[str, Any]]:
    """The stated parts of contributions ("of which £X is …"), the BCF's adult social care part
    of the NHS minimum contribution among them."""
    parts = [
        {
            "id": p.id,
            "name": p.name,
            "partner": p.partner.name if p.partner else None,
            "stream": p.stream,
            "amounts": [
                {"year": y, "amount": format_pounds(v) if v is not None else None}
                for y, v, _ in p.amounts
            ],
            "span": _span(p.span),
        }
        for p in pool.of_which
    ]
    bcf = pool.bcf
    if bcf is not None and bcf.nhs_minimum is not None and bcf.adult_social_care:
        parts.append(
            {
                "id": "bcf-adult-social-care",
                "name": "NHS minimum contribution to adult social care",
                "partner": bcf.nhs_minimum.name,
                "stream": None,
                "amounts": [
                    {"year": y, "amount": format_pounds(v) if v is not None else None}
                    for y, v, _ in bcf.adult_social_care
                ],
                "span": _span(bcf.span),
            }
        )
    return parts


def _forecast_method(pool: m.Pool) -> dict[str, Any]:
    """How the forecast outturn is reached (run-rate unless the pool names another method)."""
    f = pool.forecast
    if f is None:
        return {"method": "run-rate", "by": None, "profile": [], "span": None}
    return {
        "method": f.method,
        "by": f.by,
        "profile": [
            {"element": eid or None, "months": [_percent(p) for p in shares] if shares else "even"}
            for eid, shares in f.shares
        ],
        "span": _span(f.span),
    }
