"""References: every partner, role, element and pool named anywhere exists."""

from __future__ import annotations

from collections.abc import Iterator

from .. import model as m
from ..diagnostics import Diagnostic, error, warning
from .common import unknown_hint

CONDITION_FIELDS = ("element", "partner", "supplier", "category", "kind")
TRANSACTION_KINDS = ("spend", "income", "contribution", "forecast")


def check(agreement: m.Agreement) -> list[Diagnostic]:
    partners = [p.id for p in agreement.partners]
    roles = [r.id for r in agreement.roles]
    pools = [p.id for p in agreement.pools]
    diags: list[Diagnostic] = []

    def partner(named: m.Named | None, where: str) -> None:
        if named is not None and named.name not in partners:
            diags.append(
                error(
                    "E301",
                    named.span,
                    f"unknown partner `{named.name}` {where}",
                    unknown_hint(named.name, partners, "partner"),
                )
            )

    def role(named: m.Named | None, where: str, extra: tuple[str, ...] = ()) -> None:
        if named is not None and named.name not in roles and named.name not in extra:
            options = [*roles, *extra]
            hint = unknown_hint(named.name, options, "role")
            if named.name in partners:
                hint = f"`{named.name}` is a partner; name one of its roles (officer or board) here"
            diags.append(error("E302", named.span, f"unknown role `{named.name}` {where}", hint))

    joint = {r.id for r in agreement.roles if r.members}
    for r in agreement.roles:
        partner(r.partner, f"for role `{r.id}`")
        for member in r.members:
            role(member, f"as a member of role `{r.id}`")
            if member.name in joint:
                diags.append(
                    error(
                        "E308",
                        member.span,
                        f"`{member.name}` is itself held jointly, so it cannot be a member of `{r.id}`",
                        f"list the people who hold `{member.name}` instead",
                    )
                )
        if r.members and r.partner is not None:
            diags.append(
                error(
                    "E308",
                    r.span,
                    f"role `{r.id}` is held jointly by its members, so it cannot also be an officer of `{r.partner.name}`",
                    "remove `partner:` (each member is an officer of its own partner)",
                )
            )
        if r.id in partners:
            diags.append(
                error(
                    "E307",
                    r.span,
                    f"`{r.id}` is both a partner and a role",
                    "give the role an id of its own, like `hc-board`",
                )
            )
    for fund in agreement.non_pooled:
        partner(fund.partner, f"for the non-pooled fund `{fund.name}`")
    for pool in agreement.pools:
        elements = [e.id for e in pool.elements]
        partner(pool.host, f"as host of pool `{pool.id}`")
        if pool.bcf is not None:
            partner(pool.bcf.nhs_minimum, "as the partner of the NHS minimum contribution")
        role(pool.manager, f"as manager of pool `{pool.id}`")
        for e in pool.elements:
            partner(e.partner, f"for element `{e.id}`")
        for year in pool.contributions:
            for c in year.contributions:
                partner(c.partner, f"in the {year.year} contributions")
        for budget in pool.budgets:
            for named, _ in budget.budgets:
                if named.name not in elements:
                    diags.append(
                        error(
                            "E303",
                            named.span,
                            f"unknown element `{named.name}` in the {budget.year} budgets",
                            unknown_hint(named.name, elements, "element"),
                        )
                    )
        for step in _steps(agreement, pool):
            target = step.allocation.partner if isinstance(step.allocation, m.ToPartner) else None
            if target is not None and target.name != m.HOST and target.name not in partners:
                hint = unknown_hint(target.name, [*partners, m.HOST], "partner")
                if hint == "did you mean `host`?":
                    hint = "did you mean `host` (the pool's host partner)?"
                diags.append(
                    error(
                        "E301",
                        target.span,
                        f"unknown partner `{target.name}` in the risk share",
                        hint,
                    )
                )
            if isinstance(step.allocation, m.Split):
                for named, _ in step.allocation.shares:
                    partner(named, "in the risk share split")
        for rule in pool.spending:
            for approver in rule.approvers:
                role(approver, "as an approver")
            if rule.where is not None:
                diags.extend(_condition(rule.where, pool, partners))
        for duty in pool.reporting:
            role(duty.to, "as a report's recipient", (m.PARTNERS,))
        for stage in pool.disputes:
            role(stage.role, f"at dispute stage {stage.number}")
    for outcome in agreement.outcomes:
        if outcome.pool is not None and outcome.pool.name not in pools:
            diags.append(
                error(
                    "E304",
                    outcome.pool.span,
                    f"unknown pool `{outcome.pool.name}` for outcome `{outcome.id}`",
                    unknown_hint(outcome.pool.name, pools, "pool"),
                )
            )
    return diags


def _steps(agreement: m.Agreement, pool: m.Pool) -> Iterator[m.RiskStep]:
    """The pool's waterfall steps: its risk share, its exit terms, and (once, with the first
    pool) the agreement's own exit terms."""
    for waterfall, _ in m.waterfalls(agreement, pool):
        for section in waterfall.sections:
            yield from section.steps


def comparisons(condition: m.Condition) -> Iterator[m.Comparison]:
    """Every comparison inside a condition, in the order written."""
    if isinstance(condition, m.Comparison):
        yield condition
    elif isinstance(condition, m.Not):
        yield from comparisons(condition.operand)
    else:
        for operand in condition.operands:
            yield from comparisons(operand)


def _condition(condition: m.Condition, pool: m.Pool, partners: list[str]) -> list[Diagnostic]:
    diags = []
    elements = [e.id for e in pool.elements]
    for comp in comparisons(condition):
        field = comp.field.name
        if field not in CONDITION_FIELDS:
            diags.append(
                error(
                    "E305",
                    comp.field.span,
                    f"`{field}` is not a transaction field",
                    unknown_hint(field, CONDITION_FIELDS, "field"),
                )
            )
            continue
        for value, quoted in zip(comp.values, comp.quoted, strict=True):
            if quoted and field == "element" and value.name not in elements:
                diags.append(
                    warning(
                        "W703",
                        value.span,
                        f'no element of pool `{pool.id}` is called "{value.name}", so this comparison never matches an element',
                        unknown_hint(value.name, elements, "element") if elements else None,
                    )
                )
            if quoted:
                continue
            if field == "element" and value.name not in elements:
                hint = (
                    unknown_hint(value.name, elements, "element")
                    if elements
                    else f"pool `{pool.id}` has no elements"
                )
                diags.append(
                    error(
                        "E303",
                        value.span,
                        f"`{value.name}` is not an element of pool `{pool.id}`",
                        hint,
                    )
                )
            elif field == "partner" and value.name not in partners:
                diags.append(
                    error(
                        "E301",
                        value.span,
                        f"unknown partner `{value.name}` in a condition",
                        unknown_hint(value.name, partners, "partner"),
                    )
                )
            elif field == "kind" and value.name not in TRANSACTION_KINDS:
                diags.append(
                    error(
                        "E306",
                        value.span,
                        f"`{value.name}` is not a transaction kind",
                        unknown_hint(value.name, TRANSACTION_KINDS, "kind"),
                    )
                )
    return diags
