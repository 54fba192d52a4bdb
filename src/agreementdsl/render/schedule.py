"""The schedule of one Pooled Fund: scheme specification, money, risk, authority, reporting, disputes.

Every Part is always present, in the same order, so that Part numbers stay stable from one
version of an agreement to the next; a Part with nothing in it says "Not used."
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..compile import source_of as _src
from ..lists import listed
from .disputes import MEDIATION_PROCEDURES, disputes, mediation_words
from .funding import forecast_method, of_which, stream_rows
from .words import count_words, percent_words

if TYPE_CHECKING:
    from .document import Builder, Section, Table

__all__ = ["MEDIATION_PROCEDURES", "disputes", "mediation_words", "schedule_parts"]


def schedule_parts(b: Builder, pool: dict[str, Any]) -> list[Section]:
    return [
        specification(b, pool),
        contributions(b, pool),
        risk(b, pool),
        authority(b, pool),
        reporting(b, pool),
        disputes(b, pool),
        outcomes(b, pool),
    ]


def _section(b: Builder, pool: dict[str, Any], part: str, title: str) -> Section:
    from .document import Section

    b.new_clause()
    return Section(title, f"part:{pool['id']}:{part}")


def _not_used(section: Section) -> Section:
    from .document import Para

    if not section.blocks:
        section.blocks.append(Para("Not used."))
    return section


def specification(b: Builder, pool: dict[str, Any]) -> Section:
    from .document import Para, Table

    s = _section(b, pool, "spec", "Scheme specification")
    manager = b.roles[pool["manager"]]["title"]
    what = "Part" if b.ir["agreement"].get("programme") == "bcf" else "Schedule"
    s.blocks.append(Para(f"This {what} sets out the {pool['name']}.", source=_src(pool)))
    s.blocks.append(
        Para(
            f"The Host Partner is {b.partners[pool['host']]['name']} ({b.short(pool['host'])}). The Pooled Fund Manager is the {manager}, an officer of the Host Partner."
        )
    )
    if pool["aims"]:
        s.blocks.append(
            Para(f"The aims of the Pooled Fund are: {aims_sentence(pool['aims'], b.ir)}")
        )
    if pool["services"]:
        s.blocks.append(Para("The Pooled Fund covers the following functions and services:"))
        from .whole import capitalise_terms

        titles = [r["title"] for r in b.ir["roles"]]
        for service in pool["services"]:
            s.blocks.append(Para(capitalise_terms(service, titles), numbered=False, style="bullet"))
    if pool["elements"]:
        s.blocks.append(
            Para(
                "The Pooled Fund is managed in the following Elements, each named against a Partner:"
            )
        )
        rows = [[e["name"], e["id"], b.short(e["partner"])] for e in pool["elements"]]
        s.blocks.append(
            Table(["Element", "Ledger identifier", "Partner"], rows, _src(pool["elements"][0]))
        )
    _schemes(b, pool, s)
    return s


def _schemes(b: Builder, pool: dict[str, Any], s: Section) -> None:
    """One specification per scheme, as the national Better Care Fund template lays them out:
    who commissions it, who provides it, what it may spend each year and how it is measured."""
    from .document import Para, Table

    if not pool["schemes"]:
        return
    s.blocks.append(
        Para(
            "The Pooled Fund funds the following schemes. Each scheme is an Element named against the Partner that commissions it, and its planned expenditure for a Financial Year is that Element's budget."
        )
    )
    for number, scheme in enumerate(pool["schemes"], start=1):
        rows = [
            ["Commissioner", b.short(scheme["commissioner"])],
            ["Lead provider", scheme["provider"] or "[to be agreed: the lead provider]"],
        ]
        rows += [
            [f"Planned expenditure {y['year']}", b.money(y["amount"]) if y["amount"] else ""]
            for y in scheme["spend"]
        ]
        rows.append(
            [
                "Metrics",
                "; ".join(scheme["metrics"]) or "[to be agreed: how the scheme is measured]",
            ]
        )
        s.blocks.append(
            Table(
                ["Scheme " + str(number), scheme["name"]],
                rows,
                _src(scheme),
                caption=f"Scheme {number}: {scheme['name']}",
            )
        )


def _basis_words(b: Builder, row: dict[str, Any]) -> str:
    basis = row["basis"]
    if basis is None:
        return "as stated"
    verb = "increased" if basis["sign"] == "+" else "reduced"
    if basis["percent"] is not None:
        return f"the {basis['year']} contribution {verb} by {percent_words(Decimal(basis['percent']))}, rounded to the nearest penny (half a penny up)"
    if basis["amount"] is not None:
        return f"the {basis['year']} contribution {verb} by {b.money(basis['amount'])}"
    return f"the same as the {basis['year']} contribution"


def term_labels(ir: dict[str, Any]) -> list[str]:
    """The financial years the agreement's term touches, as labels."""
    from datetime import date

    from ..calendar import parse_month_day, year_containing

    head = ir["agreement"]
    start = parse_month_day(head["financial_year_start"]) or (4, 1)
    try:
        first = year_containing(date.fromisoformat(head["commencement"]), *start)
        last = year_containing(date.fromisoformat(head["expiry"]), *start)
    except (TypeError, ValueError):
        return []
    labels: list[str] = []
    while first <= last and len(labels) < 100:
        labels.append(first.label)
        first = first.next()
    return labels


def year_words(b: Builder, label: str) -> str:
    """`the Financial Year 2004/05`; a year the term cuts short is named by its dates, since it
    is not a Financial Year (`the period from 1 September 2003 to 31 March 2004`)."""
    from datetime import date

    from ..calendar import financial_year, parse_month_day
    from .words import date_words

    head = b.ir["agreement"]
    year = financial_year(label, *(parse_month_day(head["financial_year_start"]) or (4, 1)))
    try:
        start = date.fromisoformat(head["commencement"])
        end = date.fromisoformat(head["expiry"])
    except (TypeError, ValueError):
        return f"the Financial Year {label}"
    if year is None or (start <= year.first_day and year.last_day <= end):
        return f"the Financial Year {label}"
    first, last = max(start, year.first_day), min(end, year.last_day)
    return f"the period from {date_words(first.isoformat())} to {date_words(last.isoformat())}"


def contributions(b: Builder, pool: dict[str, Any]) -> Section:
    from .document import Para, Table

    s = _section(b, pool, "contributions", "Financial contributions")
    for year in pool["contributions"]:
        s.blocks.append(
            Para(
                f"For {year_words(b, year['year'])} the Partners shall contribute to the Pooled Fund:",
                source=_src(year),
            )
        )
        rows = []
        for row in year["partners"]:
            if row.get("streams") and row["streams"][0]["stream"] is not None:
                rows.extend(stream_rows(b, row, _basis_words))
                continue
            amount = b.money(row["amount"]) if row["amount"] is not None else "[not stated]"
            rows.append([b.partners[row["partner"]]["name"], amount, _basis_words(b, row)])
        rows.append(["**Total**", f"**{b.money(year['total'])}**", ""])
        s.blocks.append(Table(["Partner", "Contribution", "Basis"], rows, _src(year)))
    stated = {year["year"] for year in pool["contributions"]}
    for label in term_labels(b.ir):
        if label not in stated:
            s.blocks.append(
                Para(
                    f"The contributions for the Financial Year {label} are to be agreed by the Partners and recorded by a variation of this Agreement."
                )
            )
    for budget in pool["budgets"]:
        names = {e["id"]: e["name"] for e in pool["elements"]}
        s.blocks.append(
            Para(
                f"For {year_words(b, budget['year'])} the Pooled Fund is budgeted by Element as follows:",
                source=_src(budget),
            )
        )
        rows = [
            [
                names.get(e["element"], e["element"]),
                b.money(e["amount"]) if e["amount"] else "[not stated]",
            ]
            for e in budget["elements"]
        ]
        s.blocks.append(Table(["Element", "Budget"], rows, _src(budget)))
    _payments(b, pool, s)
    _bcf_facts(b, pool, s)
    of_which(b, pool, s)
    return _not_used(s)


def _payments(b: Builder, pool: dict[str, Any], s: Section) -> None:
    """When contributions are paid: what `run` checks the ledger's contribution rows against."""
    from .document import Para

    if not pool["contributions"]:
        return
    terms = pool["payments"]
    period = {"monthly": "month", "quarterly": "quarter", "annual": "Financial Year"}[
        terms["cadence"]
    ]
    each = (
        "in equal monthly instalments"
        if terms["cadence"] == "monthly"
        else (
            "in equal quarterly instalments"
            if terms["cadence"] == "quarterly"
            else "in one payment"
        )
    )
    count, unit = terms["within"].split(" ", 1)
    words = count_words(int(count), unit.replace(" ", "_") if unit.endswith("s") else unit + "s")
    short = [w for w in (year_words(b, y) for y in term_labels(b.ir)) if "period" in w]
    part_year = bool(short) and terms["cadence"] != "annual"
    lead = "Subject to the next paragraph, each" if part_year else "Each"
    pence = (
        ""
        if terms["cadence"] == "annual"
        else " Each instalment is in whole pence: each is first rounded down to the penny, and "
        "the pennies left over are added one each to the instalments with the largest fractions "
        "of a penny, the earlier first where those are equal."
    )
    s.blocks.append(
        Para(
            f"{lead} Partner shall pay its contribution for a Financial Year into the Pooled Fund {each}, each due on the first day of the {period} and paid within {words} of the first day of that {period}.{pence}"
        )
    )
    if part_year:
        # engine/payments.py over a part-year term: one instalment per period it touches
        s.blocks.append(
            Para(
                f"For {' and '.join(short)}, in which this Agreement is in force for part of a Financial Year only, the contribution is paid in one instalment for each {period} of which that period holds all or part, in proportion to the months of that period it holds (a month held in part counting as that part), each due on the first day of that {period} within that period and paid within {words} of that day; the instalments are in whole pence as the paragraph before provides."
            )
        )


def _bcf_facts(b: Builder, pool: dict[str, Any], s: Section) -> None:
    """The Better Care Fund's national conditions as they bear on this pool's money."""
    from .document import Para

    facts = pool["bcf"]
    if not facts:
        return
    if facts["nhs_minimum"]:
        parts = [
            f"{b.money(y['amount'])} in {y['year']}"
            for y in facts["adult_social_care"]
            if y["amount"] is not None
        ]
        text = f"The contribution of {b.short(facts['nhs_minimum'])} to the Pooled Fund is the NHS minimum contribution to the Better Care Fund"
        if parts:
            text += (
                ", of which " + listed(parts) + " is for adult social care and shall be spent on it"
            )
        s.blocks.append(Para(text + "."))
    if facts["dfg"]:
        s.blocks.append(
            Para(
                "This Pooled Fund holds the Disabled Facilities Grant. Each Element's budget is the allocation passed to the Partner named against it."
            )
        )


def risk(b: Builder, pool: dict[str, Any]) -> Section:
    from .document import Para

    s = _section(b, pool, "risk", "Risk share: Overspends and Underspends")
    risk_share = pool["risk_share"] or {}
    by_year = pool.get("risk_share_years") or []
    stated = (
        [
            (year_span_words(by_year, i, term_labels(b.ir)), y["waterfall"])
            for i, y in enumerate(by_year)
        ]
        if by_year
        else [("in a Financial Year", risk_share)]
    )
    for when, waterfall in stated:
        for direction in ("overspend", "underspend"):
            section = waterfall.get(direction)
            if not section:
                continue
            s.blocks.append(
                Para(
                    f"Any {direction.capitalize()} of the Pooled Fund {when} shall be dealt with as follows:",
                    source=_src(section),
                )
            )
            for step, portion in zip(
                section["steps"], bands(b, section["steps"], direction), strict=True
            ):
                text = str(b.phrases.risk_step(step, direction, portion, pool["id"]))
                s.blocks.append(Para(text, source=_src(step), level=2))
    if risk_share:
        s.blocks.append(Para(str(b.phrases.rounding())))
        _settlement(b, pool, s)
        _exit(b, pool, s)
    return _not_used(s)


def _settlement(b: Builder, pool: dict[str, Any], s: Section) -> None:
    """On what the risk share settles, when it is paid, and years without contributions."""
    from .document import Para

    within = b.ir["agreement"].get("settlement_within") or {"count": 30, "unit": "days"}
    annual = any(
        d["trigger"] is None and d["cadence"] == "annual" and d["to"] == "partners"
        for d in pool["reporting"]
    )
    words = count_words(within["count"], within["unit"])
    s.blocks.append(Para(str(b.phrases.settlement(words, annual, pool["id"]))))
    shared = {"by-contribution", "equally", "by-element"}
    uses = any(
        step["allocation"]["type"] in shared
        for waterfall in [
            pool["risk_share"] or {},
            *(y["waterfall"] for y in pool.get("risk_share_years") or []),
        ]
        for section in waterfall.values()
        if isinstance(section, dict) and "steps" in section
        for step in section["steps"]
    )
    s.blocks.append(Para(str(b.phrases.no_contributions(uses, pool["id"]))))


POOL_SHARE = "of the contributions to the Pooled Fund for that Financial Year"


def _bound(b: Builder, pence: int, percents: list[Decimal]) -> str:
    """A band's bound in words: money, a percentage of the pool, or money plus percentages."""
    parts = [b.money(pence)] if pence or not percents else []
    if percents:
        parts.append(f"{percent_words(sum(percents, Decimal(0)))} {POOL_SHARE}")
    return " plus ".join(parts)


def bands(b: Builder, steps: list[dict[str, Any]], direction: str) -> list[str]:
    """Each step's band of the variance, without ambiguity: `first £280,000` is so much as does
    not exceed £280,000; the `next £500,000` so much as exceeds £280,000 but does not exceed
    £780,000; `rest` so much as exceeds £780,000 (or the whole, when it is the only step).

    A `by own elements` step may take less than its band (only the partners' own elements'
    total), and the engine gives each later step what is left, up to its own amount: so after
    one, each band is worded as what is left after the paragraphs before it."""
    noun = f"any {direction.capitalize()}"
    pence, percents = 0, list[Decimal]()
    out = []
    left = False  # a step before may have taken less than its band
    for step in steps:
        if step["kind"] == "rest":
            if step["number"] == 1:
                out.append(f"the whole of {noun}")
            elif left:
                out.append(f"so much of {noun} as is left after the paragraphs before this one")
            else:
                out.append(f"so much of {noun} as exceeds {_bound(b, pence, percents)}")
            continue
        if left:
            own = (
                b.money(_pence(step["amount"]))
                if step["amount"] is not None
                else f"{percent_words(Decimal(step['pool_percent']))} {POOL_SHARE}"
            )
            out.append(
                f"so much of what is left of {noun} after the paragraphs before this one as "
                f"does not exceed {own}"
            )
        else:
            lower = _bound(b, pence, percents) if (pence or percents) else ""
            if step["amount"] is not None:
                pence += _pence(step["amount"])
            else:
                percents = [*percents, Decimal(step["pool_percent"])]
            upper = _bound(b, pence, percents)
            out.append(
                f"so much of {noun} as exceeds {lower} but does not exceed {upper}"
                if lower
                else f"so much of {noun} as does not exceed {upper}"
            )
        if step["allocation"]["type"] == "by-own-elements":
            left = True
    return out


def _pence(amount: str) -> int:
    from ..money import parse_amount

    return parse_amount(amount)


def year_span_words(by_year: list[dict[str, Any]], i: int, term: list[str] | None = None) -> str:
    """The years a risk share stated per year governs, each named: `in the Financial Year
    2005/06`, `in the Financial Years 2006/07 and 2007/08`, `in the Financial Year 2008/09 and
    each later Financial Year`. A stated year covers itself, up to the next stated; the last
    also every later year. The first stated also governs the years of the agreement's `term`
    before it (as the engine applies it), and those are named too, never "any earlier year"."""
    first = int(by_year[i]["from"][:4])
    label = lambda start: f"{start}/{(start + 1) % 100:02d}"  # noqa: E731
    before = [y for y in term or [] if int(y[:4]) < first] if i == 0 else []
    if i == len(by_year) - 1:
        if i == 0:
            return "in any Financial Year"  # the one waterfall governs every year
        years = [*before, label(first)]
        named = (
            f"the Financial Year {years[0]}"
            if len(years) == 1
            else f"the Financial Years {', '.join(years[:-1])} and {years[-1]}"
        )
        return f"in {named} and each later Financial Year"
    last = int(by_year[i + 1]["from"][:4]) - 1
    years = [*before, *(label(y) for y in range(first, last + 1))]
    if len(years) == 1:
        return f"in the Financial Year {years[0]}"
    return f"in the Financial Years {', '.join(years[:-1])} and {years[-1]}"


def _exit(b: Builder, pool: dict[str, Any], s: Section) -> None:
    """What happens to the pool's balance, and to what the partners bought, on exit."""
    from .document import Para

    terms = pool["exit"] or {}
    waterfall = terms.get("waterfall")
    s.blocks.append(
        Para(str(b.phrases.exit_intro(bool(waterfall))), source=_src(terms) if terms else None)
    )
    for direction in ("overspend", "underspend"):
        section = (waterfall or {}).get(direction)
        steps = section["steps"] if section else []
        for step, portion in zip(steps, bands(b, steps, direction), strict=True):
            text = str(b.phrases.risk_step(step, direction, portion, pool["id"]))
            s.blocks.append(Para(text, source=_src(step), level=2))
    if terms.get("assets"):
        s.blocks.append(
            Para(
                "On exit, as to what the Partners bought or employ for the Pooled Fund: "
                + " ".join(terms["assets"].split()),
                source=_src(terms),
            )
        )
    else:  # the termination clause promises this Part says what each Partner keeps
        s.blocks.append(
            Para(
                "On exit, as to what the Partners bought or employ for the Pooled Fund: "
                "[to be agreed: what each Partner keeps of the assets bought and the contracts "
                "let for the Pooled Fund, and who employs the staff working for it]"
            )
        )


def _condition_words(b: Builder, pool: dict[str, Any], node: dict[str, Any]) -> str:
    op = node["op"]
    if op in ("in", "not-in"):
        names = {e["id"]: e["name"] for e in pool["elements"]}
        field = node["field"]
        if field == "element":
            values = [names.get(v, f'"{v}"') for v in node["values"]]
        elif field == "partner":
            values = [b.short(v) if v in b.partners else f'"{v}"' for v in node["values"]]
        else:
            values = [f'"{v}"' for v in node["values"]]
        subject = {
            "element": "the Element",
            "partner": "the Partner",
            "supplier": "the Supplier",
            "category": "the Category",
            "kind": "the kind",
        }[field]
        joined = listed(values, "or")
        return f"{subject} is {'not ' if op == 'not-in' else ''}{joined}"
    if op == "not":
        return f"it is not the case that {_condition_words(b, pool, node['operand'])}"
    joiner = " and " if op == "all" else " or "
    return "(" + joiner.join(_condition_words(b, pool, o) for o in node["operands"]) + ")"


def authority(b: Builder, pool: dict[str, Any]) -> Section:
    from .document import Para, Table

    s = _section(b, pool, "authority", "Delegated authority")
    if not pool["spending"]:
        return _not_used(s)
    s.blocks.append(Para(str(b.phrases.spending_intro())))
    rows = []
    for rule in pool["spending"]:
        limit = (
            f"up to and including {b.money(rule['limit'])}"
            if rule["limit"] is not None
            else "any amount"
        )
        conditions = []
        if rule["within_plan"]:
            conditions.append("within the Business Plan")
        if rule["where"] is not None:
            conditions.append(f"where {_condition_words(b, pool, rule['where']).strip('()')}")
        approvers = [b.role(a) for a in rule["approvers"]]
        who = approvers[0] if len(approvers) == 1 else listed(approvers) + ", jointly"
        rows.append(
            [str(rule["number"]), limit, "; ".join(conditions) or "none", who[0].upper() + who[1:]]
        )
    s.blocks.append(
        Table(["Row", "Expenditure", "Conditions", "Approval by"], rows, _src(pool["spending"][0]))
    )
    s.blocks.append(Para(str(b.phrases.stand_in_rule(pool["only_named_approvers"]))))
    if not pool["only_named_approvers"]:
        ranks = sorted(pool["stand_ins"], key=lambda r: pool["authority"][r])
        rows = [[_capital(b.role(r)), _either(b, r, pool["stand_ins"][r])] for r in ranks]
        s.blocks.append(Table(["Approval required from", "May be given by"], rows))
    s.blocks.append(Para(str(b.phrases.whole_commitment())))
    line = pool.get("unapproved_spend") or {}
    borne = line.get("borne_by") == "partner"
    s.blocks.append(
        Para(str(b.phrases.unapproved(borne, pool["id"])), source=_src(line) if borne else None)
    )
    return s


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def _either(b: Builder, role: str, higher: list[str]) -> str:
    names = [b.role(role), *(b.role(h) for h in higher)]
    if len(names) == 1:
        return _capital(names[0]) + " only"
    return _capital(listed(names, "or"))


def reporting(b: Builder, pool: dict[str, Any]) -> Section:
    from .document import Para

    s = _section(b, pool, "reporting", "Monitoring and reporting")
    statutory = next((d for d in pool["reporting"] if regulation_7_report(d)), None)
    board = _board(b, pool)
    # A finance report the clause sends only to a body of the partnership is drafted as the
    # agreement states it, never silently re-addressed: the paragraph below then says what
    # regulation 7 still needs, and the drafting notes give W801.
    for duty in pool["reporting"]:
        deadline = count_words(duty["deadline"]["count"], duty["deadline"]["unit"])
        trigger = str(b.phrases.trigger(duty["trigger"])) if duty["trigger"] else ""
        cadence = duty["cadence"]
        recipient = b.role("partners") if duty is statutory else b.role(duty["to"])
        text = str(b.phrases.duty(duty, recipient, deadline, trigger))
        if duty is statutory:
            text += " " + str(b.phrases.regulation_7(cadence, board))
        s.blocks.append(Para(text, source=_src(duty)))
    if statutory is None and pool["reporting"]:
        # check warns (W801); the draft must not read as meeting regulation 7 when it does not
        s.blocks.append(Para(str(b.phrases.regulation_7_missing(_board(b, pool)))))
    forecast_method(b, pool, s)
    return _not_used(s)


def regulation_7_report(duty: dict[str, Any], to: set[str] | None = None) -> bool:
    """A duty that is regulation 7's report of income and expenditure to the Partners (the
    IR's counterpart of checks.terms.meets_regulation_7); with `to`, such a report sent to one
    of those roles instead."""
    from ..checks.terms import FINANCIAL_WORDS

    words = set(duty["report"].lower().replace("-", " ").split())
    return (
        duty["trigger"] is None
        and duty["cadence"] in ("monthly", "quarterly")
        and (duty["to"] in to if to is not None else duty["to"] == "partners")
        and bool(words & FINANCIAL_WORDS)
    )


def _board(b: Builder, pool: dict[str, Any]) -> str:
    """The body of the partnership the pool reports to (its first), else the agreement's
    first body that is not held jointly; "" when there is none."""
    bodies = [
        r["id"]
        for r in b.ir["roles"]
        if not r["partner"] and not r.get("members") and not r.get("statutory")
    ]
    named = [d["to"] for d in pool["reporting"] if d["to"] in bodies]
    chosen = named[0] if named else (bodies[0] if bodies else None)
    return b.role(chosen) if chosen else ""


TARGET_WORDS = {
    ">=": "at least",
    ">": "more than",
    "<=": "at most",
    "<": "less than",
    "=": "exactly",
}


COUNT_WORDS = {"<": "fewer than", "<=": "no more than"}
RATE = re.compile(r"\((per cent|per [0-9,]+)(?: [a-z ]+)?\)\s*$")


def target_words(target: dict[str, Any] | None, measure: str = "") -> str:
    """`>= 80` → `at least 80`; with its measure's unit, `< 2050` of a measure "(per 100,000
    population)" → `fewer than 2,050 per 100,000`, never to be read as a year."""
    if not target:
        return ""
    rate = RATE.search(measure)
    unit = f" {rate.group(1)}" if rate else ""
    words = TARGET_WORDS[target["op"]]
    if rate and rate.group(1) != "per cent":
        words = COUNT_WORDS.get(target["op"], words)
    return f"{words} {number_words(target['value'])}{unit}"


def number_words(value: str) -> str:
    """A target's number as a count is written: `2050` → `2,050`, never read as a year."""
    from decimal import InvalidOperation

    try:
        return f"{Decimal(value):,}"
    except (InvalidOperation, ValueError):
        return value


def _name_words(ir: dict[str, Any]) -> set[str]:
    """The capitalised words of the agreement's names: partners, pools, elements and roles."""
    names = [p["name"] for p in ir["partners"]] + [r["title"] for r in ir["roles"]]
    for pool in ir["pools"]:
        names += [pool["name"], *(e["name"] for e in pool["elements"])]
    return {w for n in names for w in re.findall(r"\w+", n) if w[:1].isupper()} - {"The", "A", "An"}


def aims_sentence(aims: str, ir: dict[str, Any]) -> str:
    """Aims after "are: ", as one sentence: a leading capital lowered unless it starts an
    acronym or a name (a word capitalised in a name of the agreement: a partner, pool, element
    or role, such as "Herefordshire"), and a full stop at the end; defined terms in capitals."""
    from .whole import capitalise_terms

    titles = [r["title"] for r in ir["roles"]]
    text = capitalise_terms(" ".join(aims.split()), titles)
    first = re.sub(r"\W+$", "", text.split()[0]) if text.split() else ""
    if (
        len(text) > 1
        and text[0].isupper()
        and not text[1].isupper()
        and first not in _name_words(ir)
    ):
        text = text[0].lower() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def outcome_table(outcomes: list[dict[str, Any]]) -> Table:
    """Measures, targets, years and cadences of outcomes, as a table."""
    from .document import Table
    from .whole import capitalise_terms

    rows = [
        [
            capitalise_terms(o["measure"]),
            target_words(o["target"], o["measure"]),
            o["by"] or "",
            o["reported"] or "",
        ]
        for o in outcomes
    ]
    return Table(["Measure", "Target", "By", "Reported"], rows, _src(outcomes[0]))


def outcomes(b: Builder, pool: dict[str, Any]) -> Section:
    from .document import Para

    s = _section(b, pool, "outcomes", "Outcomes")
    mine = [o for o in b.ir["outcomes"] if o["pool"] == pool["id"]]
    if mine:
        s.blocks.append(
            Para(
                "The Partners shall measure the following outcomes, report them as stated and review them each year:"
            )
        )
        s.blocks.append(outcome_table(mine))
    return _not_used(s)
