"""Every example in LANGUAGE.md works exactly as written (it is the language's reference)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agreementdsl import load_source
from agreementdsl.source import SourceFile

LIVE = Path(__file__).resolve().parents[2] / "shared" / "LANGUAGE.md"
COPY = Path(__file__).resolve().parent / "data" / "LANGUAGE.md"  # for checkouts without ../shared
EXAMPLE = Path(__file__).resolve().parents[1] / "agreements" / "herefordshire.yaml"


def _language() -> str:
    return (LIVE if LIVE.exists() else COPY).read_text("utf-8")


def test_the_copy_of_the_language_reference_is_current() -> None:
    if not LIVE.exists():
        pytest.skip("../shared/LANGUAGE.md is not beside this checkout; the copy is used")
    assert COPY.read_text("utf-8") == LIVE.read_text("utf-8"), (
        "refresh tests/data/LANGUAGE.md from ../shared"
    )


def _section_example(number: int) -> str:
    match = re.search(rf"## {number}\. .*?```\n(.*?)```", _language(), re.S)
    assert match, f"no example in §{number}"
    return match.group(1)


def test_the_complete_example_is_our_herefordshire_agreement() -> None:
    match = re.search(r"## 1\. A complete example\n\n```yaml\n(.*?)```", _language(), re.S)
    assert match
    assert EXAMPLE.read_text("utf-8") == match.group(1)


def test_the_complete_example_checks_clean() -> None:
    loaded = load_source(SourceFile("example.yaml", EXAMPLE.read_text("utf-8")))
    assert loaded.agreement is not None
    assert loaded.errors == []


def _with_ld_clause(key: str, clause: str) -> str:
    """§1's agreement with one learning-disabilities clause replaced by a §4–§7 example."""
    text = EXAMPLE.read_text("utf-8")
    ld = text.index("  learning-disabilities:")
    start = text.index(f"    {key}: |\n", ld) + len(f"    {key}: |\n")
    end = start
    lines = text[start:].split("\n")
    for line in lines:
        if line.startswith("      ") or not line.strip():
            end += len(line) + 1
        else:
            break
    body = "".join(f"      {line}\n" if line else "\n" for line in clause.rstrip("\n").split("\n"))
    return text[:start] + body + text[end:]


@pytest.mark.parametrize(
    ("section", "key"), [(4, "risk_share"), (5, "spending"), (6, "reporting"), (7, "disputes")]
)
def test_clause_examples_check_clean_inside_the_learning_disabilities_pool(
    section: int, key: str
) -> None:
    clause = _section_example(section)
    text = _with_ld_clause(key, clause)
    loaded = load_source(SourceFile("example.yaml", text))
    assert loaded.errors == [], [str(d) for d in loaded.errors]
    pool = loaded.agreement.pool("learning-disabilities") if loaded.agreement else None
    assert pool is not None
    count = len([line for line in clause.splitlines() if line.strip()])
    if key == "risk_share":
        assert pool.risk_share is not None
        assert sum(len(s.steps) + 1 for s in pool.risk_share.sections) == count
    else:
        assert len(getattr(pool, key)) == count


def test_contribution_forms_of_section_3_are_all_accepted() -> None:
    text = EXAMPLE.read_text("utf-8").replace(
        '      2006/07: { hpct: "prior year + 2.5%", hc: "prior year" }\n'
        '      2007/08: { hpct: "prior year + 2.5%", hc: "prior year" }',
        '      2006/07: { hpct: "prior year + 3%", hc: "prior year - 2%" }\n'
        '      2007/08: { hpct: "prior year + £100,000", hc: "2005/06 + 2.5%" }',
    )
    loaded = load_source(SourceFile("example.yaml", text))
    assert loaded.errors == []
