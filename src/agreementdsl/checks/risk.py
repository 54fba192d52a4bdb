"""Risk share: the shape of each waterfall and what its allocations need."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from .. import model as m
from ..contributions import evaluate_contributions
from ..diagnostics import Diagnostic, error, warning
from ..money import format_money, format_percent


def check(agreement: m.Agreement) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for pool in agreement.pools:
        for waterfall, on_exit in m.waterfalls(agreement, pool):
            diags.extend(_sections(pool, waterfall))
            for section in waterfall.sections:
                diags.extend(_order(pool, section))
                diags.extend(_allocations(pool, section, on_exit))
    return diags


def _sections(pool: m.Pool, risk: m.RiskShare) -> list[Diagnostic]:
    diags = []
    seen: set[str] = set()
    for section in risk.sections:
        if section.direction in seen:
            diags.append(
                error(
                    "E607",
                    section.span,
                    f"the {section.direction} section is given twice in pool `{pool.id}`",
                )
            )
        seen.add(section.direction)
    for direction in ("overspend", "underspend"):
        if direction not in seen:
            diags.append(
                error(
                    "E607",
                    risk.span,
                    f"the risk share of pool `{pool.id}` has no `{direction}:` section",
                    f"add `{direction}:` with at least a `rest` step, e.g. `rest by contribution`",
                )
            )
    return diags


def _threshold(steps: tuple[m.RiskStep, ...]) -> str:
    """Words for the amount covered by the steps before `rest`."""
    pence = sum(s.quantity for s in steps if isinstance(s.quantity, int))
    percent = sum(
        (s.quantity.percent for s in steps if isinstance(s.quantity, m.PoolPercent)), Decimal(0)
    )
    parts = [format_money(pence, always_pence=False)] if pence or not percent else []
    if percent:
        parts.append(f"{format_percent(percent)} of the pool")
    return " plus ".join(parts)


def _order(pool: m.Pool, section: m.RiskSection) -> list[Diagnostic]:
    diags = []
    steps = section.steps
    for i, step in enumerate(steps):
        previous = steps[i - 1].kind if i else None
        if step.kind == "first" and i > 0:
            diags.append(
                error(
                    "E601",
                    step.kind_span,
                    "`first` may only be the first step of a section",
                    "use `next` for a later tier",
                )
            )
        if step.kind == "next" and previous not in ("first", "next"):
            diags.append(
                error(
                    "E602",
                    step.kind_span,
                    "`next` must follow `first` or `next`",
                    "start the section with `first`",
                )
            )
        if step.kind == "rest" and i < len(steps) - 1:
            diags.append(
                error(
                    "E603",
                    step.kind_span,
                    "`rest` takes all that is left, so it must be the last step",
                    "move the later steps above it",
                )
            )
        if step.kind != "rest" and step.quantity is None:
            diags.append(
                error(
                    "E608",
                    step.kind_span,
                    f"`{step.kind}` needs an amount, like `{step.kind} £100,000`",
                )
            )
        if step.kind == "rest" and step.quantity is not None:
            diags.append(
                error("E608", step.kind_span, "`rest` takes no amount: it takes all that is left")
            )
        if isinstance(step.quantity, m.PoolPercent) and step.quantity.percent > 100:
            diags.append(
                warning(
                    "W602",
                    step.span,
                    f"this step takes {format_percent(step.quantity.percent)} of the pool, more than the whole pool",
                )
            )
        if step.quantity == 0 or (
            isinstance(step.quantity, m.PoolPercent) and step.quantity.percent == 0
        ):
            diags.append(
                warning("W601", step.span, "this step takes £0 and never allocates anything")
            )
    if steps and all(s.kind != "rest" for s in steps):
        diags.append(
            error(
                "E604",
                section.span,
                f"the {section.direction} section of pool `{pool.id}` has no `rest` step: any "
                f"{section.direction} above {_threshold(steps)} would be unallocated",
                "end the section with a `rest` step, e.g. `rest by contribution`",
            )
        )
    return diags


def _allocations(pool: m.Pool, section: m.RiskSection, on_exit: bool) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    reported: set[tuple[str, str]] = set()
    values, _ = evaluate_contributions(pool)
    for step in section.steps:
        alloc = step.allocation
        if isinstance(alloc, m.CarriedForward) and on_exit:
            diags.append(
                error(
                    "E606",
                    step.span,
                    f"nothing can be carried forward on exit: the pool has no next year to carry the {section.direction} into",
                    "share the balance `to leaving partner`, `to host`, `by contribution`, `equally` or `split`",
                )
            )
        if isinstance(alloc, m.ToLeaver) and not on_exit:
            diags.append(
                error(
                    "E611",
                    alloc.span,
                    "`to leaving partner` is only for the waterfall that applies on exit (`termination: on_exit`)",
                    "in a year's risk share, name the partner: `to host` or `to PARTNER`",
                )
            )
        if isinstance(alloc, m.Split):
            total = sum((share for _, share in alloc.shares), Decimal(0))
            names = [n.name for n, _ in alloc.shares]
            if total != 100:
                diags.append(
                    error(
                        "E605",
                        alloc.span,
                        f"the split shares add up to {format_percent(total)}, not 100%",
                        "fixed shares must add up to exactly 100%",
                    )
                )
            for dup in sorted(n for n, times in Counter(names).items() if times > 1):
                diags.append(error("E605", alloc.span, f"`{dup}` appears twice in the split"))
        if isinstance(alloc, m.ByContribution | m.Equally | m.ByElement):
            for year, partners in values.items():
                if (year, section.direction) in reported:
                    continue
                if (
                    len(partners) == len(_year(pool, year))
                    and sum(v.pence for v in partners.values()) == 0
                ):
                    reported.add((year, section.direction))
                    diags.append(
                        error(
                            "E609",
                            step.span,
                            f"the {year} contributions to pool `{pool.id}` total £0, so a step "
                            f"`{_words(alloc)}` has nothing to share by",
                            "state the year's contributions, or allocate the step `to` a partner",
                        )
                    )
        if isinstance(alloc, m.ByOwnElements) and step.kind == "rest":
            diags.append(
                error(
                    "E612",
                    alloc.span,
                    f"`by own elements` takes only the partners' own {section.direction}s, which may be less than all that is left, so it cannot be the `rest` step",
                    "make it a tier (`first £X by own elements` or `first 100% of pool by own elements`) and end with `rest by contribution`",
                )
            )
        if isinstance(alloc, m.ByElement | m.ByOwnElements):
            written = "by element" if isinstance(alloc, m.ByElement) else "by own elements"
            budgeted = {b.year for b in pool.budgets}
            missing = [y.year for y in pool.contributions if y.year not in budgeted]
            if not pool.elements:
                diags.append(
                    error(
                        "E610",
                        step.span,
                        f"`{written}` needs elements, and pool `{pool.id}` has none",
                    )
                )
            elif missing:
                diags.append(
                    error(
                        "E610",
                        step.span,
                        f"`{written}` needs element budgets, and pool `{pool.id}` has none for {', '.join(missing)}",
                        "add `budgets:` giving each element's budget for every year",
                    )
                )
    return diags


def _year(pool: m.Pool, label: str) -> tuple[m.Contribution, ...]:
    return next((y.contributions for y in pool.contributions if y.year == label), ())


def _words(alloc: m.Allocation) -> str:
    if isinstance(alloc, m.ByElement):
        return "by element"  # which falls back to contributions when no element moved
    return "by contribution" if isinstance(alloc, m.ByContribution) else "equally"
