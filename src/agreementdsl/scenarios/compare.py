"""Comparing a scenario's expectations with the engine's results, exactly, with the working."""

from __future__ import annotations

from typing import Any

from ..engine.output import _approvals
from ..engine.run import PoolResult, RunResult
from ..money import MoneyError, format_money
from .runner import Failure, ScenarioResult, money_value


def compare(
    result: ScenarioResult, run: RunResult, pool_id: str, rows: list[dict[str, str]]
) -> None:
    """Fill `result` with failures, the actual values (for --update), explanation and coverage."""
    pool = next(p for p in run.pools if p.pool["id"] == pool_id)
    approvals = list(_approvals(run, pool))
    if result.scenario.ledger is None:
        approvals = [a for a in approvals if a.row - 2 < len(rows)]  # not the balancing outturn row
    result.actual = _actual(run, pool, approvals)
    expect = result.scenario.expect
    from .runner import Failure as _Failure
    from .spec import EXPECT_KEYS, FIGURE_KEYS

    if not expect:
        span = result.scenario.span
        result.failures.append(
            _Failure(
                "expect",
                "at least one expectation",
                "none: `agreementdsl test --update` fills them in",
                span,
            )
        )

    for key, expected in expect.items():
        if key not in EXPECT_KEYS:  # reported as T005 at its line; the scenario cannot pass
            span = result.scenario.expect_spans.get(key, result.scenario.span)
            message = "not checked: not an expectation `test` knows (T005)"
            result.failures.append(Failure(key, _show(expected), message, span))
            continue
        span = result.scenario.expect_spans.get(key, result.scenario.span)
        actual = result.actual.get(key)
        try:
            same = _same(key, expected, actual, run, pool)
        except (MoneyError, ValueError, TypeError) as exc:
            result.failures.append(Failure(key, _show(expected), f"(cannot compare: {exc})", span))
            continue
        if not same:
            result.failures.append(Failure(key, _show(expected), _show(actual), span))
    if any(f.key in FIGURE_KEYS for f in result.failures):
        for key in ("budget", "forecast", "variance", "settlement"):
            result.explanation.extend(w.text() for w in pool.explain.get(key, []))
    if any(f.key in ("reports", "raised") for f in result.failures):
        result.explanation.extend(
            f"{r.report} to {r.to} raised {r.why}" for r in pool.reports if r.triggered
        )
    if any(f.key in ("required", "recorded", "compliant", "approvals") for f in result.failures):
        for item in approvals:
            lines = run.authorities[item.pool].why_not_lower(
                item.decision, item.amount, item.in_plan, item.fields
            )
            result.explanation.extend(f"transaction {item.row - 1}: {line}" for line in lines)
    result.covered = _coverage(run, pool, approvals, expect)


def _actual(run: RunResult, pool: PoolResult, approvals: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if pool.budget is not None:
        out["budget"] = format_money(pool.budget, always_pence=False)
    out["actual"] = format_money(pool.actual, always_pence=False)
    if pool.forecast is not None:
        out["forecast"] = format_money(pool.forecast.pence, always_pence=False)
    if pool.variance_kind in ("overspend", "underspend"):
        out[pool.variance_kind] = format_money(pool.variance or 0, always_pence=False)
    out["balanced"] = pool.variance_kind == "balanced"
    if pool.settlement is not None:
        out["settlement"] = {
            p: format_money(v, always_pence=False) for p, v in pool.settlement.shares.items()
        }
        out["carried_forward"] = format_money(pool.settlement.carried_forward, always_pence=False)
    out["approvals"] = [
        {"required": list(a.decision.required), "compliant": a.decision.compliant}
        for a in approvals
    ]
    if approvals:
        out["required"] = list(approvals[0].decision.required)
        out["recorded"] = list(approvals[0].decision.recorded)
        out["compliant"] = approvals[0].decision.compliant
    out["reports"] = [
        {
            "report": r.report,
            "to": r.to,
            "period_end": r.period_end.isoformat(),
            "due": r.due.isoformat(),
        }
        for r in pool.reports
    ]
    out["raised"] = [
        {
            "report": r.report,
            "to": r.to,
            "period_end": r.period_end.isoformat(),
            "due": r.due.isoformat(),
        }
        for r in pool.reports
        if r.triggered
    ]
    out["disputes"] = {
        s.dispute.id: {
            "stage": s.stage,
            "holder": s.holder,
            "deadline": s.deadline.isoformat() if s.deadline else None,
            "overdue": s.overdue,
        }
        for s in pool.disputes
    }
    out["rejected"] = [r.code for r in run.rejected]
    if pool.borne is not None:
        out["unapproved_spend"] = {
            p: format_money(v, always_pence=False) for p, v in pool.borne.by_partner.items()
        }
    if pool.paid:
        out["received"] = {
            paid.partner: format_money(paid.received, always_pence=False) for paid in pool.paid
        }
    return out


def _same(key: str, expected: Any, actual: Any, run: RunResult, pool: PoolResult) -> bool:
    if key in ("budget", "actual", "forecast", "overspend", "underspend", "carried_forward"):
        return actual is not None and money_value(expected) == money_value(actual)
    if key in ("settlement", "unapproved_spend", "received"):
        if not isinstance(expected, dict) or actual is None:
            return False
        named = {p: money_value(v) for p, v in expected.items()}
        shares = {p: money_value(v) for p, v in actual.items()}
        return all(shares.get(p) == v for p, v in named.items()) and all(
            v == 0 for p, v in shares.items() if p not in named
        )
    if key in ("required", "recorded"):
        return list(expected or []) == list(actual or [])
    if key in ("compliant", "balanced"):
        return bool(expected) == bool(actual)
    if key in ("approvals", "raised"):
        return all(_subset(e, a) for e, a in zip(expected, actual, strict=False)) and len(
            expected
        ) == len(actual)
    if key == "reports":
        return all(any(_subset(e, a) for a in actual) for e in expected)
    if key == "disputes":
        return all(d in actual and _subset(e, actual[d]) for d, e in expected.items())
    if key == "rejected":
        return (
            (len(actual) == expected)
            if isinstance(expected, int)
            else list(expected) == list(actual)
        )
    return bool(expected == actual)


def _subset(expected: Any, actual: Any) -> bool:
    if not isinstance(expected, dict) or not isinstance(actual, dict):
        return bool(expected == actual)
    return all(
        str(actual.get(k)) == str(v) if not isinstance(v, bool | None) else actual.get(k) == v
        for k, v in expected.items()
    )


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _coverage(
    run: RunResult, pool: PoolResult, approvals: list[Any], expect: dict[str, Any]
) -> set[tuple[str, ...]]:
    pid = pool.pool["id"]
    covered: set[tuple[str, ...]] = set()
    if pool.settlement is not None and pool.variance_kind in ("overspend", "underspend"):
        for step in pool.settlement.steps:
            if step.taken > 0:  # by where the step is written: a year's step or an exit step
                covered.add(("step", pid, pool.variance_kind, step.source))
    for item in approvals:
        if item.decision.rule is not None:
            covered.add(("rule", pid, str(item.decision.rule.number)))
    for report in pool.reports:
        if report.triggered:
            covered.add(("duty", pid, str(report.duty)))
    for wanted in [*(expect.get("reports") or []), *(expect.get("raised") or [])]:
        for report in pool.reports:
            if isinstance(wanted, dict) and _subset(
                wanted,
                {
                    "report": report.report,
                    "to": report.to,
                    "period_end": report.period_end.isoformat(),
                    "due": report.due.isoformat(),
                },
            ):
                covered.add(("duty", pid, str(report.duty)))
    for standing in pool.disputes:
        for stage in range(1, standing.stage + 1):
            covered.add(("stage", pid, str(stage)))
    return covered


def uncovered(ir: dict[str, Any], covered: set[tuple[str, ...]]) -> list[tuple[str, str]]:
    """(what, where) for every clause no scenario exercised."""
    missing = []
    for pool in ir["pools"]:
        pid = pool["id"]
        waterfalls = [("", pool["risk_share"] or {})] + [
            (f"{y['from']} ", y["waterfall"]) for y in (pool.get("risk_share_years") or [])[1:]
        ]
        if pool.get("exit") and pool["exit"]["waterfall"]:
            waterfalls.append(("exit ", pool["exit"]["waterfall"]))
        for label, waterfall in waterfalls:
            for direction, section in waterfall.items():
                for step in section["steps"]:
                    if ("step", pid, direction, _where(step)) not in covered:
                        missing.append(
                            (
                                f"{pid}: {label}{direction} step {step['number']} `{step['text']}`",
                                _where(step),
                            )
                        )
        for rule in pool["spending"]:
            if ("rule", pid, str(rule["number"])) not in covered:
                missing.append(
                    (f"{pid}: spending rule {rule['number']} `{rule['text']}`", _where(rule))
                )
        for duty in pool["reporting"]:
            if ("duty", pid, str(duty["number"])) not in covered:
                missing.append(
                    (
                        f"{pid}: reporting duty {duty['number']} ({duty['report']} to {duty['to']})",
                        _where(duty),
                    )
                )
        for stage in pool["disputes"]:
            if ("stage", pid, str(stage["stage"])) not in covered:
                missing.append(
                    (f"{pid}: dispute stage {stage['stage']} ({stage['holder']})", _where(stage))
                )
    return missing


def _where(node: dict[str, Any]) -> str:
    return f"{node['span']['file']}:{node['span']['line']}"
