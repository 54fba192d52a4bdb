"""Semantic checks: each module is a function (agreement → diagnostics), run in turn."""

from __future__ import annotations

from collections.abc import Callable

from .. import model as m
from ..diagnostics import Diagnostic
from . import bcf, legal, provisions, references, returns, risk, spending, terms, years

CHECKS: tuple[Callable[[m.Agreement], list[Diagnostic]], ...] = (
    references.check,
    legal.check,
    years.check,
    risk.check,
    spending.check,
    terms.check,
    bcf.check,
    provisions.check,
    returns.check,
)


def run_checks(agreement: m.Agreement) -> list[Diagnostic]:
    """Every semantic problem in the agreement (the checks never raise on a partial model)."""
    diags: list[Diagnostic] = []
    for check in CHECKS:
        diags.extend(check(agreement))
    return diags
