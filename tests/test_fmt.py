"""`agreementdsl fmt`: canonical clause layout that keeps comments and never changes meaning."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from agreementdsl import load, load_source
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.fmt import format_text
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
MESSY = (
    HEREFORDSHIRE.replace(
        "      up to £50,000 within plan: mh-manager",
        "      up  to £50k   within  plan:mh-manager   # the manager's own threshold",
    )
    .replace(
        "        first £280,000 to host\n        rest by contribution\n      underspend:",
        "        # host first\n          first £0.28m to host\n        rest   by contribution\n      underspend:",
        1,
    )
    .replace(
        "      1. mh-manager within 10 working days", "      1.mh-manager within 10 working day"
    )
)


def _ir(text: str) -> object:
    loaded = load_source(SourceFile("a.yaml", text))
    assert loaded.agreement is not None and loaded.ok, loaded.errors
    ir = compile_agreement(loaded.agreement, text)
    ir["source"] = None  # the hash differs; the meaning must not
    return _without_spans(ir)


def _without_spans(node: object) -> object:
    """The IR without source positions (columns move when a line is laid out)."""
    if isinstance(node, dict):
        return {k: _without_spans(v) for k, v in node.items() if k != "span"}
    if isinstance(node, list):
        return [_without_spans(v) for v in node]
    return node


def _fmt(text: str) -> str:
    return format_text(load_source(SourceFile("a.yaml", text)))


def test_every_example_agreement_is_already_canonical() -> None:
    result = CliRunner().invoke(main, ["fmt", "--check", str(ROOT / "agreements")])
    assert result.exit_code == 0, result.output


def test_messy_clauses_are_laid_out_and_comments_kept() -> None:
    out = _fmt(MESSY)
    assert "      up to £50,000 within plan: mh-manager  # the manager's own threshold\n" in out
    assert (
        "        # host first\n        first £280,000 to host\n        rest by contribution\n"
        in out
    )
    assert "      1. mh-manager within 10 working days\n" in out
    assert out == HEREFORDSHIRE.replace(
        "      up to £50,000 within plan: mh-manager",
        "      up to £50,000 within plan: mh-manager  # the manager's own threshold",
    ).replace(
        "        first £280,000 to host\n        rest by contribution\n      underspend:",
        "        # host first\n        first £280,000 to host\n        rest by contribution\n      underspend:",
        1,
    )


def test_formatting_keeps_the_meaning_and_is_idempotent() -> None:
    out = _fmt(MESSY)
    assert _ir(out) == _ir(MESSY)
    assert _fmt(out) == out


def test_check_shows_a_diff_and_fails_then_fmt_writes(tmp_path: Path) -> None:
    path = tmp_path / "messy.yaml"
    path.write_text(MESSY, "utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    assert "-      up  to £50k   within  plan:mh-manager" in result.output
    assert path.read_text("utf-8") == MESSY
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0
    assert CliRunner().invoke(main, ["fmt", "--check", str(path)]).exit_code == 0


def test_an_agreement_with_errors_is_not_formatted(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEREFORDSHIRE.replace("to host", "to hots"), "utf-8")
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 1
    assert path.read_text("utf-8") == HEREFORDSHIRE.replace("to host", "to hots")


SPACES = st.sampled_from([" ", "  ", "   "])


@settings(max_examples=60, deadline=None)
@given(st.lists(SPACES, min_size=8, max_size=8))
def test_any_spacing_of_a_spending_clause_formats_to_the_same_text(gaps: list[str]) -> None:
    a, b, c, d, e, f, g, h = gaps
    messy = HEREFORDSHIRE.replace(
        "      up to £10,000 where element is respite: ld-manager",
        f"      up{a}to{b}£10,000{c}where{d}element{e}is{f}respite:{g}ld-manager{h}",
    )
    assert _fmt(messy) == HEREFORDSHIRE


def test_loaded_example_files_format_without_change() -> None:
    for path in sorted((ROOT / "agreements").glob("*.yaml")):
        if path.name.endswith(".test.yaml"):
            continue
        loaded = load(path)
        assert loaded.source is not None
        assert format_text(loaded) == loaded.source.text, path.name


def test_only_named_approvers_is_laid_out_like_any_rule() -> None:
    text = HEREFORDSHIRE.replace(
        "      above: executives and board\n",
        "      above: executives and board\n      only   named  approvers   # no stand-ins\n",
    )
    formatted = _fmt(text)
    assert "      only named approvers  # no stand-ins\n" in formatted
    assert _ir(formatted) == _ir(text)
    assert _fmt(formatted) == formatted
