"""Better Care Fund: the national rules of the policy framework an agreement says it follows.

The rules and their dates live in one data file (data/bcf-frameworks.yaml), with their sources,
so that a new framework year is a change of data, not of code. Every message names the
framework it comes from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .. import model as m
from ..contributions import evaluate_contributions
from ..diagnostics import Diagnostic, error, warning
from ..money import format_money, percent_of
from ..source import Span

FRAMEWORKS_ENV = "AGREEMENTDSL_BCF_FRAMEWORKS"


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    years: tuple[str, ...]
    uplift: Decimal | None  # the least yearly rise of the NHS minimum contribution, in per cent
    all_pooled: bool
    dfg_to_districts: bool
    sign_by: date | None

    @property
    def named(self) -> str:
        return f"the {self.title}"


@cache
def frameworks(path: str | None = None) -> dict[str, Framework]:
    """The frameworks of the data file (or of the file AGREEMENTDSL_BCF_FRAMEWORKS names)."""
    if path is not None:
        text = Path(path).read_text("utf-8")
    else:
        text = (resources.files("agreementdsl") / "data" / "bcf-frameworks.yaml").read_text("utf-8")
    data = yaml.safe_load(text) or {}
    out = {}
    for key, f in (data.get("frameworks") or {}).items():
        uplift = f.get("nhs_minimum_uplift")
        sign_by = f.get("sign_by")
        out[str(key)] = Framework(
            str(key),
            str(f.get("title") or key),
            tuple(str(y) for y in f.get("years") or ()),
            Decimal(str(uplift).rstrip("%")) if uplift is not None else None,
            bool(f.get("all_funding_pooled")),
            bool(f.get("dfg_to_districts")),
            sign_by
            if isinstance(sign_by, date)
            else date.fromisoformat(sign_by)
            if sign_by
            else None,
        )
    return out


class FrameworksUnreadable(Exception):
    """The frameworks file cannot be read as the rules it should hold."""


def _load(path: str | None) -> dict[str, Framework]:
    try:
        return frameworks(path)
    except (OSError, yaml.YAMLError, ValueError, ArithmeticError, AttributeError, TypeError) as exc:
        where = path or "the package's data/bcf-frameworks.yaml"
        raise FrameworksUnreadable(f"{where}: {exc}".splitlines()[0]) from None


def check(agreement: m.Agreement) -> list[Diagnostic]:
    if agreement.programme != "bcf":
        return _unmarked(agreement)
    span = agreement.key_spans.get("agreement.framework") or agreement.key_spans.get(
        "agreement.programme", agreement.span
    )
    try:
        known = _load(os.environ.get(FRAMEWORKS_ENV))
    except FrameworksUnreadable as exc:
        return [
            error(
                "E950",
                span,
                f"the Better Care Fund frameworks cannot be read ({exc}), so the national rules cannot be checked",
                f"correct the file {FRAMEWORKS_ENV} names, or unset it to use the frameworks shipped with agreementdsl",
            )
        ]
    if agreement.framework not in known:
        said = f"`{agreement.framework}` is not a" if agreement.framework else "no"
        return [
            error(
                "E950",
                span,
                f"{said} Better Care Fund policy framework this tool knows, so the national rules cannot be checked",
                f"write `framework:` as one of {', '.join(known)} (frameworks live in data/bcf-frameworks.yaml, or the file {FRAMEWORKS_ENV} names)",
            )
        ]
    f = known[agreement.framework]
    diags = _covered(agreement, f, span)
    diags += _nhs_minimum(agreement, f)
    diags += _dfg(agreement, f)
    diags += _pooled(agreement, f)
    diags += _signed(agreement, f, span)
    return diags


def _unmarked(agreement: m.Agreement) -> list[Diagnostic]:
    """Better Care Fund facts in an agreement not marked `programme: bcf`: nothing is checked."""
    given = [k for k in ("agreement.framework",) if k in agreement.key_spans]
    if agreement.non_pooled:
        given.append("non_pooled")
    facts = [p for p in agreement.pools if p.bcf is not None]
    if not given and not facts:
        return []
    span = agreement.key_spans.get(given[0]) if given else facts[0].bcf.span  # type: ignore[union-attr]
    return [
        warning(
            "W956",
            span or agreement.span,
            "the agreement states Better Care Fund facts but is not marked `programme: bcf`, so the national rules are not checked",
            "add `programme: bcf` to `agreement:`",
        )
    ]


def _covered(agreement: m.Agreement, f: Framework, span: Span) -> list[Diagnostic]:
    """Years of the agreement's contributions that the framework does not cover."""
    years = sorted({y.year for p in agreement.pools for y in p.contributions})
    outside = [y for y in years if y not in f.years]
    if not outside:
        return []
    return [
        warning(
            "W957",
            span,
            f"{f.named} covers {', '.join(f.years)}, not {', '.join(outside)}, so the national rules of {'that year are' if len(outside) == 1 else 'those years are'} not checked",
            "name the framework that covers every year of the plan, or split the agreement by framework",
        )
    ]


def _contribution(pool: m.Pool, values: dict[str, Any], year: str, partner: str) -> int | None:
    found = values.get(year, {}).get(partner)
    return found.pence if found is not None else None


def _nhs_minimum(agreement: m.Agreement, f: Framework) -> list[Diagnostic]:
    pools = [p for p in agreement.pools if p.bcf and p.bcf.nhs_minimum]
    if not pools:
        return [
            warning(
                "W951",
                agreement.key_spans.get("pools", agreement.span),
                f"no pool holds the NHS minimum contribution, which {f.named} requires to be pooled "
                "(with its part for adult social care)",
                'in the pool that holds it, add `bcf: { nhs_minimum: icb, adult_social_care: { 2023/24: "£…" } }`',
            )
        ]
    diags: list[Diagnostic] = []
    for pool in pools:
        assert pool.bcf is not None and pool.bcf.nhs_minimum is not None
        icb = pool.bcf.nhs_minimum.name
        values, _ = evaluate_contributions(pool)
        if not pool.bcf.adult_social_care:
            diags.append(
                warning(
                    "W951",
                    pool.bcf.span,
                    f"pool `{pool.id}` does not state the part of the NHS minimum contribution for adult social care, which {f.named} protects",
                    "add `adult_social_care:` with each year's amount",
                )
            )
        social = {y: (p, s) for y, p, s in pool.bcf.adult_social_care}
        for year, (part, span) in social.items():
            whole = _contribution(pool, values, year, icb)
            if part is not None and whole is not None and part > whole:
                diags.append(
                    error(
                        "E951",
                        span,
                        f"the {year} NHS minimum contribution to adult social care ({format_money(part)}) is more than {icb}'s whole contribution to pool `{pool.id}` ({format_money(whole)}), of which {f.named} makes it a part",
                        "the part for adult social care is included in the NHS minimum contribution",
                    )
                )
        if f.uplift is None:
            continue
        stated: dict[str, int | None] = {y: _contribution(pool, values, y, icb) for y in f.years}
        spans: dict[str, Span] = {y: _year_span(pool, y) for y in f.years}
        streams: tuple[tuple[str, dict[str, int | None], dict[str, Span]], ...] = (
            ("NHS minimum contribution", stated, spans),
            (
                "NHS minimum contribution to adult social care",
                {y: social[y][0] if y in social else None for y in f.years},
                {y: social[y][1] if y in social else pool.bcf.span for y in f.years},
            ),
        )
        for label, amounts, where in streams:
            for before, after in zip(f.years, f.years[1:], strict=False):
                first, second = amounts[before], amounts[after]
                if first is None or second is None:
                    continue
                least = first + percent_of(first, f.uplift)
                if second < least:
                    diags.append(
                        warning(
                            "W952",
                            where[after],
                            f"the {label} rises from {format_money(first)} in {before} to {format_money(second)} in {after}, less than the {f.uplift}% {f.named} requires (at least {format_money(least)})",
                            f"state at least {format_money(least)} for {after}",
                        )
                    )
    return diags


def _year_span(pool: m.Pool, year: str) -> Span:
    return next((y.span for y in pool.contributions if y.year == year), pool.span)


def _dfg(agreement: m.Agreement, f: Framework) -> list[Diagnostic]:
    districts = {p.id for p in agreement.partners if p.tier == "district"}
    if not f.dfg_to_districts or not districts:
        return []
    diags = []
    for pool in agreement.pools:
        if not (pool.bcf and pool.bcf.dfg):
            continue
        kept = [e for e in pool.elements if e.partner.name not in districts]
        if not pool.elements or kept:
            names = ", ".join(f"`{e.id}` ({e.partner.name})" for e in kept) or "it has no elements"
            diags.append(
                warning(
                    "W953",
                    pool.bcf.span,
                    f"in a two-tier area {f.named} passes the Disabled Facilities Grant in full to the district councils, but pool `{pool.id}` keeps part of it elsewhere: {names}",
                    "name each DFG element against the district council it is passed to, or record the districts' agreement to keep it",
                )
            )
    return diags


def _pooled(agreement: m.Agreement, f: Framework) -> list[Diagnostic]:
    if not f.all_pooled:
        return []
    return [
        warning(
            "W954",
            fund.span,
            f"`{fund.name}` is kept out of the pooled funds, but {f.named} requires all Better Care Fund funding to be pooled",
            "move it into a pool, or take it out of the Better Care Fund plan",
        )
        for fund in agreement.non_pooled
    ]


def _signed(agreement: m.Agreement, f: Framework, span: Any) -> list[Diagnostic]:
    if f.sign_by is None:
        return []
    if agreement.signed is None:
        return [
            warning(
                "W955",
                span,
                f"the agreement does not say when it was signed; {f.named} requires the plan and agreement to be signed by {f.sign_by:%-d %B %Y}",
                "add `signed: YYYY-MM-DD` to the agreement",
            )
        ]
    try:
        signed = date.fromisoformat(agreement.signed)
    except ValueError:
        return []  # E107 reports the date itself
    if signed <= f.sign_by:
        return []
    return [
        warning(
            "W955",
            agreement.key_spans.get("agreement.signed", span),
            f"signed on {signed:%-d %B %Y}, after {f.sign_by:%-d %B %Y}, the date by which {f.named} requires the plan and agreement to be signed",
            "record the reason for the delay, and the national team's agreement to it",
        )
    ]
