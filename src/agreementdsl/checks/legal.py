"""Legal constraints of SI 2000/617: who may be a party, host and manager, what must be stated."""

from __future__ import annotations

import re
from datetime import date

from .. import model as m
from ..diagnostics import Diagnostic, error, warning
from .common import pool_partners

S75_COMMENCED = date(2007, 3, 1)
REG_7_3 = "SI 2000/617 reg 7(3)"


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def check(agreement: m.Agreement) -> list[Diagnostic]:
    diags = _parties(agreement) + _dates(agreement) + _matters(agreement)
    for pool in agreement.pools:
        diags.extend(_host_and_manager(agreement, pool))
    return diags


def _parties(agreement: m.Agreement) -> list[Diagnostic]:
    span = agreement.key_spans.get("partners", agreement.span)
    kinds = {p.kind for p in agreement.partners}
    if not agreement.partners or not kinds <= {"nhs-body", "local-authority"}:
        return []  # the schema has reported missing or malformed partners
    diags = []
    for kind, words in (("nhs-body", "an NHS body"), ("local-authority", "a local authority")):
        if kind not in kinds:
            diags.append(
                error(
                    "E401" if kind == "nhs-body" else "E402",
                    span,
                    f"no partner is {words}: a Section 75 agreement is made between one or more NHS "
                    "bodies and one or more local authorities (SI 2000/617 reg 2)",
                    f"add a partner with `kind: {kind}`",
                )
            )
    return diags


def _dates(agreement: m.Agreement) -> list[Diagnostic]:
    diags = []
    spans = agreement.key_spans
    for key in ("commencement", "expiry"):
        text = getattr(agreement, key)
        if text and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) and _date(text) is None:
            diags.append(
                error(
                    "E107",
                    spans.get(f"agreement.{key}", agreement.span),
                    f"`{text}` is not a date in the calendar",
                )
            )
    start, end = _date(agreement.commencement), _date(agreement.expiry)
    if start and end and end < start:
        diags.append(
            error(
                "E405",
                spans.get("agreement.expiry", agreement.span),
                f"the agreement expires ({end}) before it commences ({start})",
            )
        )
    if start and agreement.basis == "nhs-act-2006-s75" and start < S75_COMMENCED:
        diags.append(
            warning(
                "W402",
                spans.get("agreement.commencement", agreement.span),
                f"an agreement commencing on {start} cannot be made under NHS Act 2006 s75, "
                "in force from 1 March 2007",
                "use `basis: health-act-1999-s31` for earlier agreements",
            )
        )
    return diags


def _matters(agreement: m.Agreement) -> list[Diagnostic]:
    """The matters of reg 7(3) that the YAML carries, reported when missing."""
    head = agreement.key_spans.get("agreement", agreement.span)
    diags = []
    notice = agreement.termination_notice
    if notice is not None and notice.count <= 0:
        diags.append(
            error(
                "E801",
                notice.span,
                "a notice period must be at least 1",
                "write e.g. `notice: 12 months`",
            )
        )
    if agreement.review is None and "agreement.review" not in agreement.key_spans:
        diags.append(
            warning(
                "W401",
                head,
                f"the agreement does not say how it is reviewed ({REG_7_3}(f))",
                "add `review: annual`",
            )
        )
    if agreement.termination_notice is None and "agreement.termination" not in agreement.key_spans:
        diags.append(
            warning(
                "W401",
                head,
                f"the agreement does not say how it may be terminated ({REG_7_3}(f))",
                "add `termination: { notice: 12 months }`",
            )
        )
    for pool in agreement.pools:
        if agreement.aims is None and pool.aims is None:
            diags.append(
                warning(
                    "W401",
                    pool.span,
                    f"no aims are stated for pool `{pool.id}` ({REG_7_3}(a))",
                    "add `aims:` to the agreement or the pool",
                )
            )
        if not pool.services:
            diags.append(
                warning(
                    "W401",
                    pool.span,
                    f"pool `{pool.id}` does not list the functions and services it covers ({REG_7_3}(c),(d))",
                    "add `services:` with one line per service",
                )
            )
    if not agreement.outcomes:
        diags.append(
            warning(
                "W901",
                head,
                f"the agreement sets no outcomes ({REG_7_3}(a)); the Audit Commission found that "
                "agreements often lack measurable outcomes",
                "add `outcomes:` with a measure, a target and a year",
            )
        )
    return diags


def _host_and_manager(agreement: m.Agreement, pool: m.Pool) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    host = pool.host
    if host is None or agreement.partner(host.name) is None:
        return diags
    contributors = pool_partners(pool)
    if pool.contributions and host.name not in contributors:
        diags.append(
            error(
                "E403",
                host.span,
                f"the host `{host.name}` does not contribute to pool `{pool.id}`",
                "the host partner holds the fund it contributes to: add its contribution or choose another host",
            )
        )
    manager = agreement.role(pool.manager.name) if pool.manager else None
    if manager is not None and pool.manager is not None:
        owner = manager.partner.name if manager.partner else None
        if owner != host.name:
            belongs = f"belongs to `{owner}`" if owner else "names no partner"
            diags.append(
                error(
                    "E404",
                    pool.manager.span,
                    f"the manager `{manager.id}` {belongs}, but the pooled fund manager must be an "
                    f"officer of the host `{host.name}` (SI 2000/617 reg 7(4))",
                    f"set `partner: {host.name}` on role `{manager.id}`",
                )
            )
    return diags
