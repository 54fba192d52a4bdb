"""Limits refused fast with a stable code: alias bombs, deep nesting, money beyond £1 trillion,
absurd counts, and tags that would build objects (docs/robustness.md, docs/errors.md)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl import load_source
from agreementdsl.cli import main
from agreementdsl.limits import (
    MAX_CLAUSE_LINES,
    MAX_ELEMENTS,
    MAX_OUTCOMES,
    MAX_PARTNERS,
    MAX_POOLS,
    MAX_ROLES,
    MAX_SHARES,
    MAX_YAML_NODES,
)
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
BASELINE = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")


def codes_of(text: str, limit: float = 1.0) -> list[str]:
    """The codes `check` gives for `text`, which must come in under `limit` seconds."""
    load_source(SourceFile("warm.yaml", BASELINE))  # the grammar is built once, before timing
    began = time.perf_counter()
    loaded = load_source(SourceFile("a.yaml", text))
    took = time.perf_counter() - began
    assert took < limit, f"took {took:.2f} s"
    return sorted({d.code for d in loaded.diagnostics})


def test_the_baseline_is_within_every_limit() -> None:
    assert codes_of(BASELINE) == []


# ---------------------------------------------------------------- alias bombs
def _bomb(levels: int, width: int = 10) -> str:
    lines = ["notes:", "  l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n" + BASELINE


def test_a_billion_laughs_is_refused_at_once() -> None:
    assert codes_of(_bomb(9)) == ["E012"]  # 10^9 values once expanded


def test_a_wide_and_shallow_alias_bomb_is_refused_at_once() -> None:
    assert codes_of(_bomb(3, width=60)) == ["E012"]  # 216,000 values


def test_aliases_within_the_limit_are_read() -> None:
    text = "notes:\n  a: &a [x, y]\n  b: [*a, *a]\n" + BASELINE
    assert "E012" not in codes_of(text)


def test_a_file_holding_too_many_values_written_out_is_refused() -> None:
    # Not timed: composing a megabyte of YAML is PyYAML's own pace; the size of an agreement
    # file is limited separately (issue 19).
    values = "\n".join(f"    - v{i}" for i in range(MAX_YAML_NODES + 10))
    assert codes_of("notes:\n  many:\n" + values + "\n" + BASELINE, limit=120.0) == ["E012"]


def test_a_recursive_alias_is_refused_not_followed() -> None:
    assert "E004" in codes_of("notes: &a [*a]\n" + BASELINE)


def test_a_recursive_alias_holding_an_alias_bomb_is_refused_at_once() -> None:
    # The node is its own first child: finding where to point must not follow it round.
    levels = ["&l0 [" + ", ".join(["lol"] * 10) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 6)]
    assert codes_of("notes: &s [*s, " + ", ".join(levels) + "]\n" + BASELINE) == ["E012"]


# ---------------------------------------------------------------- nesting
@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
def test_deep_flow_brackets_are_refused_at_once(depth: int) -> None:
    assert codes_of("notes: " + "[" * depth + "]" * depth + "\n" + BASELINE) == ["E004"]


def test_deep_block_nesting_is_refused_at_once() -> None:
    nested = "".join("  " * (i + 1) + f"k{i}:\n" for i in range(500))
    assert codes_of("notes:\n" + nested + BASELINE) == ["E004"]


def test_a_clause_nested_in_thousands_of_parentheses_is_refused_at_once() -> None:
    deep = "(" * 10_000 + "element is nhs" + ")" * 10_000
    text = BASELINE.replace("up to £50,000: manager", f"up to £50,000 where {deep}: manager")
    assert "E204" in codes_of(text, limit=3.0)


# ---------------------------------------------------------------- money beyond £1 trillion
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('pct: "£1,000,000"', 'pct: "£1,000,000,000,000"'),
        ('pct: "£1,000,000"', 'pct: "£1000000m"'),
        ("up to £50,000: manager", "up to £2,000,000,000,000: manager"),
        ("first £100,000 to host", "first £1,000,000,000,000.00 to host"),
    ],
)
def test_money_of_a_trillion_or_more_in_an_agreement_is_e013(old: str, new: str) -> None:
    assert old in BASELINE
    assert "E013" in codes_of(BASELINE.replace(old, new))


def test_money_just_under_a_trillion_is_not_e013() -> None:
    text = BASELINE.replace("first £100,000 to host", "first £999,999,999,999.99 to host")
    assert "E013" not in codes_of(text)


# ---------------------------------------------------------------- absurd counts
def _partners(n: int) -> str:
    extra = "".join(f"  p{i}:\n    name: P {i}\n    kind: local-authority\n" for i in range(n))
    return BASELINE.replace("partners:\n", "partners:\n" + extra, 1)


def _roles(n: int) -> str:
    extra = "".join(f"  r{i}: {{ title: Role {i} }}\n" for i in range(n))
    return BASELINE.replace("roles:\n", "roles:\n" + extra, 1)


def _pools(n: int) -> str:
    pool = BASELINE[BASELINE.index("  mh:\n") :].split("\noutcomes:")[0]
    extra = "".join(pool.replace("  mh:\n", f"  mh{i}:\n", 1) for i in range(n))
    return BASELINE.replace("pools:\n", "pools:\n" + extra, 1)


def _elements(n: int) -> str:
    extra = "".join(f"      e{i}: {{ name: E {i}, partner: pct }}\n" for i in range(n))
    return BASELINE.replace("    elements:\n", "    elements:\n" + extra, 1)


def _spending(n: int) -> str:
    extra = "".join(f"      up to £{i + 1}: manager\n" for i in range(n))
    return BASELINE.replace("    spending: |\n", "    spending: |\n" + extra, 1)


def _steps(n: int) -> str:
    extra = "".join("        next £1 to host\n" for _ in range(n))
    return BASELINE.replace("first £100,000 to host\n", "first £100,000 to host\n" + extra, 1)


def _shares(n: int) -> str:
    split = ", ".join(f"p{i} 1%" for i in range(n))
    return BASELINE.replace("        rest by contribution\n", f"        rest split {split}\n", 1)


def _outcomes(n: int) -> str:
    extra = "".join(
        f'  - id: o{i}\n    pool: mh\n    measure: M\n    target: ">= 1"\n    by: 2005/06\n'
        "    reported: annual\n"
        for i in range(n)
    )
    return BASELINE.replace("outcomes:\n", "outcomes:\n" + extra, 1)


@pytest.mark.parametrize(
    ("make", "most", "already"),
    [
        (_partners, MAX_PARTNERS, 2),
        (_roles, MAX_ROLES, 2),
        (_pools, MAX_POOLS, 1),
        (_elements, MAX_ELEMENTS, 2),
        (_spending, MAX_CLAUSE_LINES["spending"], 2),
        (_steps, MAX_CLAUSE_LINES["risk_share"], 5),
        (_shares, MAX_SHARES, 0),
        (_outcomes, MAX_OUTCOMES, 1),
    ],
    ids=["partners", "roles", "pools", "elements", "spending", "risk-steps", "shares", "outcomes"],
)
def test_a_count_past_its_maximum_is_e014_and_refused_at_once(
    make: object, most: int, already: int
) -> None:
    assert callable(make)
    at_most = make(most - already)
    over = make(most - already + 1)
    assert at_most and over
    assert "E014" not in codes_of(at_most, limit=60.0)
    # Refused before anything is built; the time is PyYAML composing the file. The < 1 s figures
    # on a quiet machine are measured by bench/limits.py (docs/robustness.md); here the bound
    # leaves room for a loaded CI machine.
    assert codes_of(over, limit=5.0) == ["E014"]


def test_a_thousand_partners_are_refused_at_once() -> None:
    assert codes_of(_partners(1_000), limit=5.0) == ["E014"]


# ---------------------------------------------------------------- only safe YAML
@pytest.mark.parametrize(
    "tagged",
    [
        '!!python/object/apply:os.system ["echo owned"]',
        "!!python/object:builtins.dict { a: 1 }",
        "!!python/object/new:builtins.str [x]",
        "!!python/name:os.system Aims",
        '!!python/module:os ""',
        "!!binary aGk=",
        "!local Aims",
    ],
)
def test_tags_that_would_build_objects_are_refused(tagged: str, tmp_path: Path) -> None:
    text = BASELINE.replace("  aims: One integrated mental health service.", f"  aims: {tagged}")
    assert "E015" in codes_of(text)
    marker = tmp_path / "owned"
    path = tmp_path / "a.yaml"
    path.write_text(text.replace("echo owned", f"touch {marker}"), "utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1 and "error[E015]" in result.output
    assert not marker.exists()


def test_plain_tags_written_out_are_read() -> None:
    text = BASELINE.replace(
        "  aims: One integrated mental health service.", "  aims: !!str One service."
    )
    assert codes_of(text) == []
