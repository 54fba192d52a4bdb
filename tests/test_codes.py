"""Every code of `fmt`, of a ledger's structure and of output paths has a title in codes.py and
a section in docs/errors.md, in code order (the E and W codes are kept in step by
test_diagnostics_golden.py)."""

from __future__ import annotations

import re
from pathlib import Path

from agreementdsl.codes import TITLES, title

ROOT = Path(__file__).resolve().parents[1]
ERRORS_DOC = ROOT / "docs" / "errors.md"
# The ledger's structure codes (L010 and up, L1xx); L001–L009 are a row's values (running.md).
CODE = re.compile(r"\b(F[0-9]{3}|L01[0-9]|L1[0-9]{2}|P[0-9]{3})\b")


def codes_in_sources() -> set[str]:
    files = (ROOT / "src" / "agreementdsl").rglob("*.py")
    return {code for f in files for code in CODE.findall(f.read_text("utf-8"))}


def documented() -> list[str]:
    text = ERRORS_DOC.read_text("utf-8")
    return [c for c in re.findall(r"^## ([A-Z][0-9]{3})\b", text, re.MULTILINE) if CODE.match(c)]


def test_every_fmt_ledger_and_path_code_has_a_title_and_a_section() -> None:
    used = codes_in_sources()
    assert {"F001", "F002", "F003", "L012", "L013", "L014", "L015", "P001", "P004"} <= used
    assert sorted(used - set(TITLES)) == [], "codes without a title in codes.py"
    assert sorted(used - set(documented())) == [], "codes without a section in docs/errors.md"
    assert sorted(set(documented()) - used) == [], "docs/errors.md documents unused codes"


def test_the_sections_come_in_code_order_after_the_checker_codes() -> None:
    sections = documented()
    assert sections == sorted(set(sections))
    text = ERRORS_DOC.read_text("utf-8")
    assert text.index("## W902") < text.index(f"## {sections[0]}")


def test_titles_are_one_line() -> None:
    assert all("\n" not in t and t for t in TITLES.values())
    assert title("L015") == "A quote in a CSV ledger that is not closed where its row ends"
