"""The documented limits on what agreementdsl reads (docs/robustness.md).

Each limit is far beyond any real Section 75 agreement or ledger, and each is checked before the
expensive work, so input past it is refused in well under a second with a stable code:
E012 (YAML that expands to too many values: an alias bomb), E013 (money beyond £1 trillion in
an agreement), E014 (absurd counts), L016 (a ledger amount beyond £1 trillion), L017 (a ledger
field too long), L018 (a ledger that is not text). Nesting depth was already limited: E004 for
YAML, E204 for parentheses in a clause.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import yaml

from .diagnostics import Diagnostic, error
from .source import SourceFile, Span

if TYPE_CHECKING:
    from .loader import YNode

# £1,000,000,000,000 in pence: no agreement or transaction comes near it.
MAX_PENCE = 100_000_000_000_000
MAX_YAML_NODES = 100_000  # values after aliases are expanded; the largest example has ~250
MAX_YAML_DEPTH = 64  # levels of YAML nesting (E004)
# The largest counts an agreement may hold: (where, what, the most allowed).
MAX_PARTNERS = 100
MAX_ROLES = 200
MAX_POOLS = 100
MAX_ELEMENTS = 200  # in one pool
MAX_YEARS = 100  # contribution or budget years in one pool
MAX_OUTCOMES = 1_000
MAX_CLAUSE_LINES = {"risk_share": 100, "spending": 500, "reporting": 200, "disputes": 50}
MAX_SHARES = 100  # partners in one `split`
MAX_LEDGER_FIELD = 131_072  # characters in one CSV field (the csv module's own default)
MAX_LEDGER_RECORD = 1_048_576  # characters in one JSON Lines record

_SHARE = re.compile(r"\S+\s+[0-9.]+%")


def pounds(pence: int) -> str:
    return f"£{pence // 100:,}"


def _too_many(node: YNode, what: str, count: int, most: int) -> Diagnostic:
    return error(
        "E014",
        node.key_span or node.span,
        f"{what}: {count:,}, more than the {most:,} agreementdsl reads",
        "no Section 75 agreement needs so many; see docs/robustness.md for the limits",
    )


def count_problems(tree: YNode) -> list[Diagnostic]:
    """E014 for each count past its limit, found from the YAML before anything is built."""
    out: list[Diagnostic] = []

    def check(node: YNode | None, what: str, most: int) -> None:
        if node is not None and isinstance(node.value, dict | list) and len(node.value) > most:
            out.append(_too_many(node, what, len(node.value), most))

    check(tree.get("partners"), "partners", MAX_PARTNERS)
    check(tree.get("roles"), "roles", MAX_ROLES)
    check(tree.get("outcomes"), "outcomes", MAX_OUTCOMES)
    pools = tree.get("pools")
    check(pools, "pools", MAX_POOLS)
    if pools is None or not pools.is_map or len(pools.value) > MAX_POOLS:
        return out
    for pid, pool in pools.value.items():
        if not pool.is_map:
            continue
        check(pool.get("elements"), f"elements in pool `{pid}`", MAX_ELEMENTS)
        check(pool.get("contributions"), f"contribution years in pool `{pid}`", MAX_YEARS)
        check(pool.get("budgets"), f"budget years in pool `{pid}`", MAX_YEARS)
        clauses = [(key, most, pool.get(key)) for key, most in MAX_CLAUSE_LINES.items()]
        by_year = pool.get("risk_share")
        if by_year is not None and by_year.is_map:  # a risk share stated per financial year
            check(by_year, f"risk share years in pool `{pid}`", MAX_YEARS)
            clauses += [
                ("risk_share", MAX_CLAUSE_LINES["risk_share"], v) for v in by_year.value.values()
            ]
        for key, most, node in clauses:
            if node is None or not isinstance(node.value, str):
                continue
            lines = [ln for ln in node.value.split("\n") if ln.split("#")[0].strip()]
            if len(lines) > most:
                what = f"lines in the {key.replace('_', ' ')} of pool `{pid}`"
                out.append(_too_many(node, what, len(lines), most))
            if key == "risk_share":
                shares = max((len(_SHARE.findall(ln)) for ln in lines), default=0)
                if shares > MAX_SHARES:
                    what = f"shares in one split of pool `{pid}`"
                    out.append(_too_many(node, what, shares, MAX_SHARES))
    return out


# ---------------------------------------------------------------- YAML, before it is built
def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [v for pair in node.value for v in pair]
    return []


def expanded_size(root: yaml.Node) -> tuple[int, int, yaml.Node]:
    """(values once aliases are expanded, distinct values, the innermost node past the limit):
    counted over the composed graph, each node once, so an alias bomb ("billion laughs") is
    measured without expanding it."""
    sizes: dict[int, int] = {}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # depth first, each node finished after its children (post-order)
        node, done = stack.pop()
        if done:
            total = 1 + sum(sizes.get(id(c), 1) for c in _children(node))
            sizes[id(node)] = min(total, MAX_YAML_NODES + 1)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))
    where, passed = root, {id(root)}
    while big := [
        c
        for c in _children(where)
        if sizes.get(id(c), 1) > MAX_YAML_NODES and id(c) not in passed  # an alias to itself
    ]:
        where = big[0]
        passed.add(id(where))
    return sizes[id(root)], len(seen), where


_BRACKET = re.compile(r"[\[\]{}]")


def too_deep(source: SourceFile) -> Diagnostic | None:
    """E004 before PyYAML sees flow brackets nested past MAX_YAML_DEPTH (its scanner slows with the
    square of their depth). Brackets in quotes and comments count too, which can only refuse a
    file with more than 64 unclosed ones."""
    depth = 0
    for m in _BRACKET.finditer(source.text):
        depth = depth + 1 if m.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_YAML_DEPTH:
            pos = m.start()
            line = source.text.count("\n", 0, pos) + 1
            col = pos - source.text.rfind("\n", 0, pos)
            return error(
                "E004",
                Span(source.path, line, col),
                f"the YAML is nested too deeply (more than {MAX_YAML_DEPTH} levels of brackets)",
            )
    return None
