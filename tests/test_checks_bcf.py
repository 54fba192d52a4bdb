"""Better Care Fund: the framework's national rules, read from a data file a user can update."""

from __future__ import annotations

from pathlib import Path

import pytest

from agreementdsl import load, load_source
from agreementdsl.checks.bcf import FRAMEWORKS_ENV, frameworks
from agreementdsl.compile import compile_agreement
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
WEALDSHIRE = ROOT / "agreements" / "bcf-wealdshire.yaml"


def _codes(text: str) -> list[str]:
    loaded = load_source(SourceFile("bcf.yaml", text))
    return [d.code for d in loaded.diagnostics]


def test_the_example_follows_the_2023_25_framework() -> None:
    loaded = load(WEALDSHIRE)
    assert loaded.diagnostics == []
    f = frameworks()["2023-25"]
    assert (str(f.uplift), f.sign_by.isoformat() if f.sign_by else None) == ("5.66", "2023-10-31")


def test_each_rule_is_broken_in_the_example_and_caught() -> None:
    text = WEALDSHIRE.read_text("utf-8")
    cases = {
        "W952": ('2024/25: "£20,096,532"', '2024/25: "£20,096,531"'),  # a penny short of 5.66%
        "W955": ("  signed: 2023-10-26", "  signed: 2023-11-01"),
        "W953": ("      chartwell-dfg:  { name: Chartwell DFG programme, partner: chartwell }",
                 "      chartwell-dfg:  { name: Chartwell DFG programme, partner: wcc }"),
        "E950": ("  framework: 2023-25", "  framework: 2023/25"),
    }  # fmt: skip
    for code, (old, new) in cases.items():
        assert text.count(old) == 1, code
        assert code in _codes(text.replace(old, new)), code


def test_the_icb_contribution_itself_must_rise_by_the_framework_rate() -> None:
    text = WEALDSHIRE.read_text("utf-8").replace(
        '2024/25: { icb: "prior year + 5.66%", wcc: { ibcf: "prior year" } }',
        '2024/25: { icb: "prior year + 5.65%", wcc: { ibcf: "prior year" } }',
    )
    loaded = load_source(SourceFile("bcf.yaml", text))
    [w] = [d for d in loaded.diagnostics if d.code == "W952"]
    # £54,618,392 × 5.66% = £3,091,400.99 (half up): at least £57,709,792.99; × 5.65% =
    # £3,085,939.148 → £3,085,939.15, so £57,704,331.15
    assert "from £54,618,392.00 in 2023/24 to £57,704,331.15 in 2024/25" in w.message
    assert "at least £57,709,792.99" in w.message


def test_a_new_framework_year_is_a_change_of_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "frameworks.yaml"
    rules.write_text(
        "frameworks:\n"
        "  2023-25:\n"
        "    title: imaginary 2023-25 framework\n"
        "    years: [2023/24, 2024/25]\n"
        "    nhs_minimum_uplift: 10%\n"
        "    all_funding_pooled: true\n"
        "    dfg_to_districts: true\n"
        "    sign_by: 2023-09-30\n",
        "utf-8",
    )
    monkeypatch.setenv(FRAMEWORKS_ENV, str(rules))
    loaded = load(WEALDSHIRE)
    messages = {d.code: d.message for d in loaded.diagnostics}
    assert "the imaginary 2023-25 framework" in messages["W952"] and "10%" in messages["W952"]
    assert "after 30 September 2023" in messages["W955"]


def test_schemes_are_elements_with_their_spend_as_budgets() -> None:
    loaded = load(WEALDSHIRE)
    assert loaded.agreement is not None and loaded.source is not None
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    core = next(p for p in ir["pools"] if p["id"] == "core")
    assert [(e["id"], e["partner"]) for e in core["elements"]] == [
        ("community-health", "icb"),
        ("admission-avoidance", "icb"),
        ("carers", "wcc"),
        ("reablement", "wcc"),
        ("social-care", "wcc"),
    ]
    first = next(b for b in core["budgets"] if b["year"] == "2023/24")
    assert sum(int(e["amount"].replace(".", "")) for e in first["elements"]) == 7_446_464_200
    assert core["schemes"][2]["provider"] == "Wealdshire Carers Hub"
    assert core["bcf"] == {
        "nhs_minimum": "icb",
        "adult_social_care": [
            {"year": "2023/24", "amount": "19020000.00"},
            {"year": "2024/25", "amount": "20096532.00"},
        ],
        "dfg": False,
    }


def test_scheme_spend_that_does_not_add_up_is_an_error() -> None:
    text = WEALDSHIRE.read_text("utf-8").replace(
        'spend: { 2023/24: "£2,140,000", 2024/25: "£2,261,000" }',
        'spend: { 2023/24: "£2,140,001", 2024/25: "£2,261,000" }',
    )
    assert "E505" in _codes(text)


def test_a_frameworks_file_that_cannot_be_read_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = {
        "missing.yaml": None,
        "bad-yaml.yaml": "frameworks: [\n",
        "bad-rate.yaml": "frameworks:\n  2023-25: { years: [2023/24], nhs_minimum_uplift: lots }\n",
        "bad-date.yaml": "frameworks:\n  2023-25: { years: [2023/24], sign_by: 30/09/2026 }\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text, "utf-8")
        monkeypatch.setenv(FRAMEWORKS_ENV, str(path))
        loaded = load(WEALDSHIRE)
        [d] = loaded.diagnostics
        assert d.code == "E950" and "cannot be read" in d.message, name
        assert FRAMEWORKS_ENV in (d.hint or "")
