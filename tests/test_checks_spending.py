"""The spending shadow check (W701/W702) found by limit ladders gives exactly what trying every
case against every rule gives, and in time that grows with the rules, not their square."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl import model as m
from agreementdsl.build import ModelBuilder
from agreementdsl.checks import spending
from agreementdsl.conditions import describe_rule, rule_applies
from agreementdsl.diagnostics import Diagnostic, warning
from agreementdsl.loader import parse_yaml
from agreementdsl.source import SourceFile

BASELINE = (Path(__file__).resolve().parents[1] / "tests" / "defects" / "baseline.yaml").read_text(
    "utf-8"
)


def reference_shadowed(agreement: m.Agreement, pool: m.Pool) -> list[Diagnostic]:
    """The check as first written: every case (field values x amounts x within plan) against
    every rule in order. Quadratic, and the oracle for the faster one."""
    import itertools

    rules = pool.spending
    values = spending._field_values(agreement, pool)
    amounts = spending._amounts(rules)
    size = len(amounts) * 2
    for options in values.values():
        size *= max(1, len(options))
    if size > spending.MAX_CASES:
        return []
    fields = list(values)
    uses_plan = any(r.within_plan for r in rules)
    reachable = [False] * len(rules)
    catchers: dict[int, dict[int, str]] = {}
    for combo in itertools.product(*(values[f] for f in fields)):
        row = dict(zip(fields, combo, strict=True))
        for amount in amounts:
            for in_plan in (True, False):
                first = None
                for i, rule in enumerate(rules):
                    if rule_applies(rule, amount, in_plan, row):
                        if first is None:
                            first = i
                            reachable[i] = True
                        else:
                            plan = in_plan if uses_plan else None
                            catchers.setdefault(i, {})[first] = spending._case_words(
                                amount, plan, row
                            )
    diags = []
    for i, rule in enumerate(rules):
        if reachable[i]:
            continue
        if rule.limit is not None and rule.limit == 0:
            diags.append(warning("W702", rule.span, "zero"))
            continue
        if i not in catchers:
            if not spending._names_unknown(agreement, pool, rule):
                diags.append(warning("W701", rule.span, "never"))
            continue
        earlier = sorted(catchers[i])
        names = " or ".join(
            f"`{describe_rule(rules[j])}` (line {rules[j].span.line})" for j in earlier
        )
        example = catchers[i][earlier[-1]]
        diags.append(
            warning("W701", rule.span, f"{names}|{example}|{rules[earlier[-1]].span.line}")
        )
    return diags


def summary(diags: list[Diagnostic]) -> list[tuple[str, int, str]]:
    """Code, line and the parts of the message that carry the finding."""
    out = []
    for d in diags:
        message = d.message
        if "caught first by" in message:
            names = message.split("caught first by ", 1)[1].split("; for example ", 1)[0]
            example, line = message.split("; for example ", 1)[1].rsplit(" goes to line ", 1)
            message = f"{names}|{example}|{line}"
        elif d.code == "W702":
            message = "zero"
        elif "|" not in message:  # the reference's messages are summaries already
            message = "never"
        out.append((d.code, d.span.line, message))
    return out


LIMITS = ["£0", "£10", "£50", "£100", "£1,000"]
CONDITIONS = [
    "",
    " where element is nhs",
    " where element is care",
    ' where supplier is "acme"',
    ' where supplier is not "acme" and element is nhs',
]
rule = st.tuples(
    st.sampled_from(LIMITS),
    st.booleans(),
    st.sampled_from(CONDITIONS),
    st.sampled_from(["manager", "board"]),
)


def agreement_with(rules: list[tuple[str, bool, str, str]], closed: bool) -> m.Agreement:
    lines = [
        f"      up to {limit}{' within plan' if plan else ''}{where}: {who}\n"
        for limit, plan, where, who in rules
    ]
    if closed:
        lines.append("      above: board\n")
    text = BASELINE.replace("      up to £50,000: manager\n      above: board\n", "".join(lines))
    # built directly, past the loader's limit on clause lines (E014): this tests the check's
    # own cost, whatever size of clause it is given
    source = SourceFile("s.yaml", text)
    tree, _ = parse_yaml(source)
    assert tree is not None
    return ModelBuilder(source).agreement(tree)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rule, min_size=1, max_size=8), st.booleans())
def test_ladder_check_matches_trying_every_case(
    rules: list[tuple[str, bool, str, str]], closed: bool
) -> None:
    agreement = agreement_with(rules, closed)
    pool = agreement.pools[0]
    found = [d for d in spending._shadowed(agreement, pool) if d.code != "W705"]  # not W701/2
    assert summary(found) == summary(reference_shadowed(agreement, pool))


def test_twelve_thousand_rules_are_checked_in_seconds() -> None:
    """Descending limits: every rule but the first can never apply (11,999 W701s). Trying
    every case against every rule took 576 million rule tests here."""
    rules = [(f"£{90_000 - i:,}", False, "", "manager") for i in range(12_000)]
    agreement = agreement_with(rules, True)
    start = time.monotonic()
    diags = spending._shadowed(agreement, agreement.pools[0])
    assert time.monotonic() - start < 20
    assert len(diags) == 11_999
    assert all(
        d.code == "W701" and "caught first by `up to £90,000: manager`" in d.message for d in diags
    )
