"""Fuzzing in the normal suite: every reader and parser meets random and half-valid input.

Each property runs a few hundred derandomized examples (no example database), so the suite is
stable in CI and stays within minutes. Any input must give a result or diagnostics, never an
uncaught exception; commands driven through click keep the exit codes README documents.
The long, coverage-guided run is `make fuzz` (bench/fuzz.py, docs/robustness.md).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl import load_source
from agreementdsl.calendar import (
    financial_year,
    parse_duration,
    parse_month_day,
    parse_period_label,
    parse_year_label,
)
from agreementdsl.cli import main
from agreementdsl.engine.disputes import read_disputes
from agreementdsl.engine.ledger import LedgerError, LedgerReader
from agreementdsl.engine.outcomes import read_measures
from agreementdsl.grammar import CLAUSE_KINDS, ClauseText, build_clause
from agreementdsl.loader import parse_yaml
from agreementdsl.money import (
    MoneyError,
    format_money,
    format_pounds,
    parse_amount,
    parse_money,
    parse_percent,
)
from agreementdsl.scenarios.spec import read_test_file
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
AGREEMENTS = ROOT / "agreements"
HEREFORDSHIRE = AGREEMENTS / "herefordshire.yaml"
SCENARIOS = (AGREEMENTS / "herefordshire.test.yaml").read_text("utf-8")
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _check_diagnostics(diags: list[Any]) -> None:
    for d in diags:
        assert len(d.code) == 4 and d.code[0] in "EWFLT", d
        assert d.span.line >= 1 and d.span.col >= 1, d
        assert d.message


# ---------------------------------------------------------------- the YAML loader
yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.dates().map(str),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


@FUZZ
@given(yaml_values, st.sampled_from(["block", "flow", "canonical"]))
def test_any_yaml_document_gives_a_tree_or_diagnostics(value: object, style: str) -> None:
    text = yaml.safe_dump(
        value,
        default_flow_style={"block": False, "flow": True, "canonical": None}[style],
        canonical=style == "canonical",
        allow_unicode=True,
    )
    tree, diags = parse_yaml(SourceFile("fuzz.yaml", text))
    _check_diagnostics(diags)
    assert tree is not None or diags
    if isinstance(value, dict) and value and all(k.isascii() and k.isalnum() for k in value):
        assert tree is not None
        assert set(tree.value) == {str(k) for k in value}


YAML_BITS = [":", "- ", "? ", "&a ", "*a", "!!str ", "!x ", "{", "}", "[", "]", "|", ">", '"']
YAML_BITS += ["'", "#", "\t", "\n", "  ", "---\n", "...\n", "%YAML 1.1\n", "\ufeff", "\x00", "\x85"]


@FUZZ
@given(st.lists(st.sampled_from(YAML_BITS) | st.text(max_size=6), max_size=40))
def test_yaml_shaped_noise_gives_a_tree_or_diagnostics(parts: list[str]) -> None:
    text = "agreement:\n  " + "".join(parts)
    tree, diags = parse_yaml(SourceFile("fuzz.yaml", text))
    _check_diagnostics(diags)
    assert tree is not None or diags
    loaded = load_source(SourceFile("fuzz.yaml", text))
    _check_diagnostics(loaded.diagnostics)


# ---------------------------------------------------------------- every clause kind
VALID_CLAUSES = {
    "contribution": ["£1.5m", "prior year + 2.5%", "2005/06 - £50,000", "prior year"],
    "risk_share": [
        "overspend:\n  first £280,000 to host\n  rest by contribution\n"
        "underspend:\n  first £100,000 carried forward\n  rest split hc 60%, hpct 40%\n",
        "overspend:\n  first 2% of pool by element\n  next £1m equally\n  rest to leaving partner\n",
    ],
    "spending": [
        'up to £50,000 within plan: mh-manager\nup to £250,000 where category is "x": board\n'
        "above: board and executives\nonly named approvers\n",
        'up to £10k where not (supplier in [a, "b c"] or category is not x): m\nabove: b\n',
    ],
    "reporting": [
        "quarterly finance report to board within 20 working days\n"
        "when forecast overspend exceeds 5%: exception report to board within 2 weeks\n",
    ],
    "disputes": [
        "1. mh-manager within 10 working days\n2. mediation by Acme Ltd within 1 month\n"
        "3. expert determination\n",
    ],
    "target": [">= 80", "< 2.5", "= 0"],
}
TOKENS = sorted(
    {
        tok
        for blocks in VALID_CLAUSES.values()
        for b in blocks
        for tok in b.replace("\n", " \n ").split(" ")
        if tok
    }
    | {
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        "#",
        "£",
        "%",
        "\t",
        "\r\n",
        "\x00",
        "£999,999,999,999,999,999",
    }
)


def _clause(text: str) -> ClauseText:
    return ClauseText(text, "fuzz.yaml", lambda line, col: (line, col))


def _parse_clause(kind: str, text: str) -> None:
    result, diags = build_clause(kind, _clause(text))
    _check_diagnostics(diags)
    assert result is not None or diags, f"{kind} clause {text!r} failed without saying why"


@FUZZ
@given(st.sampled_from(CLAUSE_KINDS), st.text(max_size=200))
def test_any_text_in_any_clause_kind_gives_a_result_or_diagnostics(kind: str, text: str) -> None:
    _parse_clause(kind, text)


@st.composite
def grammar_shaped(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(CLAUSE_KINDS))
    tokens = draw(st.sampled_from(VALID_CLAUSES[kind])).replace("\n", " \n ").split(" ")
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(tokens)))
        op = draw(st.integers(0, 3))
        if op == 0 and i < len(tokens):
            del tokens[i]
        elif op == 1:
            tokens.insert(i, draw(st.sampled_from(TOKENS)))
        elif op == 2 and i < len(tokens):
            tokens[i] = draw(st.sampled_from(TOKENS))
        else:
            tokens.insert(i, "(" * draw(st.integers(1, 300)))
    return kind, " ".join(tokens)


@FUZZ
@given(grammar_shaped())
def test_grammar_shaped_mutations_of_each_clause_kind(case: tuple[str, str]) -> None:
    _parse_clause(*case)


def test_every_valid_clause_used_by_the_mutations_parses() -> None:
    for kind, blocks in VALID_CLAUSES.items():
        for text in blocks:
            result, diags = build_clause(kind, _clause(text))
            assert result is not None and not diags, (kind, text, diags)


# ---------------------------------------------------------------- the scenario file reader
@st.composite
def mutated_scenarios(draw: st.DrawFn) -> str:
    lines = SCENARIOS.split("\n")
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
        elif op == 2:
            pos = draw(st.integers(0, len(lines[i])))
            bit = draw(st.sampled_from(YAML_BITS) | st.text(max_size=4))
            lines[i] = lines[i][:pos] + bit + lines[i][pos:]
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        if not lines:
            lines = [""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    shutil.copy(HEREFORDSHIRE, folder / "herefordshire.yaml")
    return folder


@settings(FUZZ, max_examples=100)
@given(mutated_scenarios())
def test_a_mutated_scenario_file_is_read_or_diagnosed(scenario_dir: Path, text: str) -> None:
    path = scenario_dir / "herefordshire.test.yaml"
    path.write_text(text, "utf-8")
    test_file = read_test_file(path)
    _check_diagnostics(test_file.diagnostics)
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output


# ---------------------------------------------------------------- ledgers, disputes, measures
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,description"
FIELDS = {
    "date": ["2005-05-01", "2006-03-31", "2005-02-30", "01/05/2005", "", "2005-5-1"],
    "pool": ["mental-health", "learning-disabilities", "mental-heath", ""],
    "element": ["council", "respite", "pct-provider", "", "nursing"],
    "kind": ["spend", "income", "contribution", "forecast", "refund", "SPEND"],
    "amount": ["100.00", "-5.5", "£1,000", "1.001", "ten", "", "1e5", "99999999999999999999"],
    "partner": ["", "hc", "hpct", "nhs-england"],
    "approved_by": ["", "board", "mh-manager;board", "executives"],
    "in_plan": ["", "yes", "no", "perhaps"],
    "supplier": ["", "Oak House", '=HYPERLINK("x")', "a,b", 'q"uote', "\x1b[31m"],
    "description": ["", "line\nbreak", "\x00", "é£"],
}
COLUMNS = list(FIELDS)


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


@st.composite
def ledger_texts(draw: st.DrawFn) -> str:
    lines = [HEADER]
    for _ in range(draw(st.integers(0, 15))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.text(max_size=60)))  # noise
            continue
        row = [draw(st.sampled_from(FIELDS[c]) | st.text(max_size=8)) for c in COLUMNS]
        if kind == 1:
            row = row[: draw(st.integers(0, len(row)))]
        lines.append(",".join(_cell(f) for f in row))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines) + "\n"


@st.composite
def jsonl_texts(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 7)) == 0:
            lines.append(draw(st.text(max_size=40)))
            continue
        record: dict[str, Any] = {}
        for c in COLUMNS:
            if draw(st.integers(0, 6)):
                record[c] = draw(
                    st.sampled_from(FIELDS[c])
                    | st.integers()
                    | st.floats(allow_nan=False)
                    | st.booleans()
                    | st.none()
                    | st.lists(st.text(max_size=3), max_size=2)
                )
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def _run(ledger: Path, *extra: str) -> Any:
    args = ["run", str(HEREFORDSHIRE), "--ledger", str(ledger), "--as-of", "2006-03-31", *extra]
    return CliRunner().invoke(main, args)


@settings(FUZZ, max_examples=150)
@given(ledger_texts(), st.sampled_from(["text", "json"]))
def test_any_csv_ledger_runs_or_stops_with_a_code(
    tmp_path_factory: pytest.TempPathFactory, text: str, fmt: str
) -> None:
    path = tmp_path_factory.mktemp("l") / "ledger.csv"
    path.write_text(text, "utf-8", newline="")
    result = _run(path, "--format", fmt)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "error[L" in result.output or "L1" in result.output, result.output


@settings(FUZZ, max_examples=150)
@given(jsonl_texts())
def test_any_jsonl_ledger_runs_or_stops_with_a_code(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("l") / "ledger.jsonl"
    path.write_text(text, "utf-8", newline="")
    result = _run(path, "--format", "json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_a_ledger_are_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("l") / "ledger.csv"
    path.write_bytes(data)
    result = _run(path)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output


SIDE = {
    "disputes": "id,pool,raised_on,resolved_on,subject\n",
    "measures": "outcome,period,value\n",
}


@FUZZ
@given(
    st.sampled_from(["disputes", "measures"]),
    st.lists(
        st.lists(
            st.sampled_from(
                [
                    "D1",
                    "mental-health",
                    "2005-06-01",
                    "",
                    "mh-user-satisfaction",
                    "2005/06 Q1",
                    "76",
                ]
            )
            | st.text(max_size=10),
            max_size=6,
        ),
        max_size=10,
    ),
)
def test_disputes_and_measures_files_are_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, which: str, rows: list[list[str]]
) -> None:
    path = tmp_path_factory.mktemp("s") / f"{which}.csv"
    path.write_text(SIDE[which] + "".join(",".join(map(_cell, r)) + "\n" for r in rows), "utf-8")
    try:
        if which == "disputes":
            found, rejected = read_disputes(path, {"mental-health": True})
        else:
            found, rejected = read_measures(path, {"mh-user-satisfaction"})  # type: ignore[assignment]
    except LedgerError as exc:
        assert exc.code.startswith("L") and exc.message
        return
    for r in rejected:
        assert len(r.code) == 4 and r.code[1:].isdigit() and r.row >= 1 and r.message
    assert len(found) + len(rejected) <= len(rows)


# ---------------------------------------------------------------- money and dates
@FUZZ
@given(
    st.text(max_size=30) | st.from_regex(r"-?£?[0-9,]{0,16}(\.[0-9]{0,4})?[kKmM]?", fullmatch=True)
)
def test_money_parsers_give_pence_or_a_money_error(text: str) -> None:
    for parse in (parse_money, parse_amount):
        try:
            pence = parse(text)
        except MoneyError as exc:
            assert str(exc)
        else:
            assert isinstance(pence, int)
    with contextlib.suppress(MoneyError):
        parse_percent(text)


@FUZZ
@given(st.integers(-(10**20), 10**20))
def test_money_round_trips_through_its_text(pence: int) -> None:
    assert parse_amount(format_pounds(pence)) == pence
    if pence >= 0:
        assert parse_money(format_money(pence)) == pence
        assert parse_money(format_money(pence, always_pence=False)) == pence


@FUZZ
@given(st.text(max_size=20))
def test_date_and_period_parsers_give_a_value_or_none(text: str) -> None:
    parsed = LedgerReader.parse_date(text)
    assert parsed is None or isinstance(parsed, date)
    year = parse_year_label(text)
    assert year is None or financial_year(text) is not None
    parse_period_label(text)
    parse_duration(text)
    parse_month_day(text)


@FUZZ
@given(st.dates())
def test_every_iso_date_reads_back(day: date) -> None:
    if day.year >= 1000:
        assert LedgerReader.parse_date(day.isoformat()) == day


@FUZZ
@given(st.integers(1900, 2200))
def test_every_financial_year_label_reads_back(start: int) -> None:
    label = f"{start}/{(start + 1) % 100:02d}"
    assert parse_year_label(label) == start


# ---------------------------------------------------------------- whole agreements via the CLI
@settings(FUZZ, max_examples=60)
@given(st.binary(max_size=400))
def test_check_on_any_bytes_exits_0_or_1(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("a") / "fuzz.yaml"
    path.write_bytes(b"agreement:\n" + data)
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output
    json.loads(result.output)


# ---------------------------------------------------------------- findings of `make fuzz`
@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("date", "L001"),  # `1/1/²⁰⁰⁵`: the day/month/year hint took ² for a digit
        ("amount", "L003"),  # `1.³0`: the fast path took ³ for a digit (finding 2b4871cb779c)
    ],
)
def test_digits_that_are_not_ascii_reject_the_row_not_the_run(
    tmp_path: Path, field: str, code: str
) -> None:
    row = {"date": "2005-05-01", "amount": "1.00"}
    row[field] = "1/1/²⁰⁰⁵" if field == "date" else "1.³0"
    path = tmp_path / "ledger.csv"
    path.write_text(
        "date,pool,element,kind,amount\n"
        f"{row['date']},mental-health,council,spend,{row['amount']}\n"
        "2005-05-02,mental-health,council,spend,2.00\n",
        "utf-8",
    )
    result = _run(path, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(2, code)]
