"""CSV cells neutralised against formula injection (OWASP): one shared function, every CSV the
tool writes for people goes through it."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.cells import FORMULA_START, csv_text, safe_cell
from agreementdsl.report.whatif import Point, WhatIf, write_csv

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip
TRIGGERS = st.sampled_from(list(FORMULA_START))


def test_each_owasp_trigger_is_neutralised() -> None:
    for text in ("=1+1", "+44 20", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "＝1+1", "＠x"):
        assert safe_cell(text) == "'" + text
    for text in ("740000.00", "overspend", "", " =1", "a=b", "'=already"):
        assert safe_cell(text) == text


@FUZZ
@given(st.text(max_size=30), TRIGGERS)
def test_no_cell_written_begins_a_formula_and_none_is_lost(text: str, trigger: str) -> None:
    for value in (text, trigger + text):
        cell = safe_cell(value)
        assert not cell.startswith(FORMULA_START)
        assert cell in (value, "'" + value)


@FUZZ
@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=5), min_size=1, max_size=6))
def test_csv_text_reads_back_cell_for_cell_with_no_formula(rows: list[list[str]]) -> None:
    read = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
    assert len(read) == len(rows)
    for got, want in zip(read, rows, strict=True):
        assert [
            c.removeprefix("'") if w.startswith(FORMULA_START) else c
            for c, w in zip(got, want, strict=True)
        ] == want
        assert not any(c.startswith(FORMULA_START) for c in got)


def test_whatif_csv_neutralises_a_partner_that_looks_like_a_formula() -> None:
    evil = ['=HYPERLINK("http://x","y")', "@cmd", "-1+1", "+1"]
    point = Point(100, "overspend", 100, {p: 25 for p in evil}, 0, False)
    result = WhatIf("a", "p", "P", "2005/06", 0, evil, [], [point])
    rows = list(csv.reader(io.StringIO(write_csv(result))))
    assert rows[0][3:7] == ["'" + p for p in evil]
    assert not any(c.startswith(FORMULA_START) for row in rows for c in row)


def test_every_csv_writer_in_the_sources_goes_through_the_shared_function() -> None:
    # csv.writer appears only in cells.py; the scenario runner's DictWriter writes temporary
    # ledgers for the engine to read back exactly (data, not output for people).
    writers = {}
    for path in (ROOT / "src" / "agreementdsl").rglob("*.py"):
        found = re.findall(r"csv\.(?:writer|DictWriter)\(", path.read_text("utf-8"))
        if found:
            writers[path.relative_to(ROOT).as_posix()] = len(found)
    assert writers == {
        "src/agreementdsl/cells.py": 1,
        "src/agreementdsl/scenarios/runner.py": 2,
    }


def test_a_carriage_return_inside_a_cell_cannot_split_a_row() -> None:
    # With `\n` line ends Python's writer left a bare `\r` unquoted, and readers split the row.
    text = csv_text([["a", "\r0"], ["b", "x\ry"]])
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["a", "'\r0"], ["b", "x\ry"]]
