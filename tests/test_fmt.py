"""`agreementdsl fmt`: canonical clause layout that keeps comments and never changes meaning."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agreementdsl import load, load_source
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.fmt import format_agreement, format_text
from agreementdsl.money import parse_money
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


# ---------------------------------------------------------------- what fmt cannot keep, it refuses
def _fmt_cli(tmp_path: Path, text: str, *options: str) -> tuple[int, str, bytes]:
    path = tmp_path / "agreement.yaml"
    path.write_bytes(text.encode("utf-8"))
    result = CliRunner().invoke(main, ["fmt", *options, str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output, path.read_bytes()


def test_cr_line_endings_are_checked_and_kept(tmp_path: Path) -> None:
    text = MESSY.replace("\n", "\r")
    code, out, _ = _fmt_cli(tmp_path, text, "--check")
    assert code == 1 and "up  to £50k" in out  # a diff, not an IndexError
    code, _, written = _fmt_cli(tmp_path, text)
    assert code == 0
    assert written.decode() == HEREFORDSHIRE.replace(
        "      up to £50,000 within plan: mh-manager",
        "      up to £50,000 within plan: mh-manager  # the manager's own threshold",
    ).replace(
        "        first £280,000 to host\n        rest by contribution\n      underspend:",
        "        # host first\n        first £280,000 to host\n        rest by contribution\n      underspend:",
        1,
    ).replace("\n", "\r")


def test_a_nel_line_break_is_kept_and_no_line_is_lost(tmp_path: Path) -> None:
    text = MESSY.replace(
        "plan:mh-manager   # the manager's own threshold\n", "plan:mh-manager\x85", 1
    )
    assert load_source(SourceFile("a.yaml", text)).ok
    code, _, written = _fmt_cli(tmp_path, text)
    assert code == 0
    out = written.decode()
    assert "      up to £50,000 within plan: mh-manager\x85      up to £250,000: board\n" in out
    assert "      above: executives\n" in out
    assert _ir(out) == _ir(text)


def test_a_tab_inside_a_rule_is_laid_out_as_a_space(tmp_path: Path) -> None:
    text = HEREFORDSHIRE.replace("up to £50,000 within", "up to £50,000\twithin", 1)
    code, _, written = _fmt_cli(tmp_path, text)
    assert code == 0 and written.decode() == HEREFORDSHIRE


def test_a_rule_wrapped_over_two_lines_is_refused_not_broken(tmp_path: Path) -> None:
    text = HEREFORDSHIRE.replace(
        "        first £280,000 to host", "        first  £280,000\n          to host", 1
    )
    assert load_source(SourceFile("a.yaml", text)).ok  # the language allows it
    for options in ((), ("--check",)):
        code, out, written = _fmt_cli(tmp_path, text, *options)
        assert code == 1
        assert "agreement.yaml:48:11: error[F001]: this line carries on the rule on line 47" in out
        assert written.decode() == text


def test_a_result_that_would_change_the_meaning_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agreementdsl import fmt

    # A layout bug (here: every spending rule printed as the last one) must never reach the file.
    monkeypatch.setattr(fmt, "describe_rule", lambda rule: "above: executives")
    code, out, written = _fmt_cli(tmp_path, MESSY)
    assert code == 1
    assert "error[F002]: fmt cannot lay out this file without changing it" in out
    assert written.decode() == MESSY


# ---------------------------------------------------------------- property: fmt keeps meaning
# Agreements are made by mutating the examples: spacing and tabs inside rules, comments in and
# after clause blocks, line endings (LF, CRLF, CR, NEL, mixed), the order of reporting duties,
# and now and then a rule wrapped over two lines (which fmt must refuse, never break).
# Source spans keep their lines (fmt never adds or removes a line) but may change columns (the
# spacing before a rule's words is what fmt lays out), so the IRs are compared without columns.
EXAMPLES = [
    (ROOT / "agreements" / name).read_text("utf-8")
    for name in ("herefordshire.yaml", "durham-ld.yaml", "bcf-wealdshire.yaml")
]
BLOCK = re.compile(r"^(\s*)(risk_share|spending|reporting|disputes):\s*\|")


def _clause_lines(lines: list[str]) -> list[int]:
    """Indexes of the non-blank lines inside clause blocks."""
    out, indent = [], None
    for i, line in enumerate(lines):
        if indent is not None and line.strip() and len(line) - len(line.lstrip()) > indent:
            out.append(i)
            continue
        start = BLOCK.match(line)
        indent = len(start.group(1)) if start else None
    return out


MONEY = re.compile(r"£[0-9][0-9,]*(?:\.[0-9]+)?[km]?")


def _spellings(text: str) -> list[str]:
    """`text` and other ways of writing the same amount: £50,000, £50000, £50k, £0.05m."""
    pence = parse_money(text)
    pounds, part = divmod(pence, 100)
    out = [text, f"£{pounds:,}.{part:02d}", f"£{pounds}.{part:02d}"]
    if part == 0:
        out += [f"£{pounds}", f"£{pounds:,}"]
        if pounds % 1000 == 0:
            out.append(f"£{pounds // 1000}k")
        if pounds % 10_000 == 0:
            out.append(f"£{pounds / 1_000_000:g}m")
    return out


@st.composite
def mutated_agreements(draw: st.DrawFn) -> tuple[str, set[str]]:
    """A mutated example and the refusals it may earn (F001 wrapped, F003 tab-indented)."""
    text = draw(st.sampled_from(EXAMPLES))
    lines = text.split("\n")
    clause = _clause_lines(lines)
    may_refuse: set[str] = set()
    for i in draw(st.lists(st.sampled_from(clause), max_size=12, unique=True)):
        line = lines[i]
        indent = line[: len(line) - len(line.lstrip())]
        words = line.split(" ")
        body = [w for w in words if w]
        if not body or body[0].startswith("#"):
            continue
        gaps = draw(st.lists(st.sampled_from([" ", " ", "  ", "   ", "\t"]), min_size=len(body)))
        extra = draw(st.sampled_from(["", "", "", " ", "  ", "", "", "", "", "\t"]))
        if extra == "\t":
            may_refuse.add("F003")
        lines[i] = indent + extra + "".join(w + g for w, g in zip(body, gaps, strict=False))
        lines[i] = lines[i].rstrip() + draw(st.sampled_from(["", "  ", "  # a note", "\t# why"]))
    for i in sorted(draw(st.lists(st.sampled_from(clause), max_size=3, unique=True)), reverse=True):
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        lines.insert(i, indent + draw(st.sampled_from(["# a comment", "#", "# £1 or 2%: no"])))
    duties = [i for i in _clause_lines(lines) if "report" in lines[i] and "within" in lines[i]]
    if len(duties) >= 2 and draw(st.booleans()):
        a, b = draw(st.permutations(duties))[:2]
        lines[a], lines[b] = lines[b], lines[a]
    if draw(st.integers(0, 9)) == 0:
        rules = [i for i in _clause_lines(lines) if " to " in lines[i] and "#" not in lines[i]]
        if rules:
            i = draw(st.sampled_from(rules))
            head, tail = lines[i].rsplit(" to ", 1)
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines[i : i + 1] = [head, f"{indent}  to {tail}"]
            may_refuse.add("F001")
    for i in draw(st.lists(st.sampled_from(_clause_lines(lines)), max_size=4, unique=True)):
        # the same amount spelt another way (issue 12): fmt must keep what it means
        lines[i] = MONEY.sub(lambda m: draw(st.sampled_from(_spellings(m.group()))), lines[i])
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r", "\x85"]), min_size=1, max_size=3))
    return "".join(line + ends[n % len(ends)] for n, line in enumerate(lines[:-1])) + lines[
        -1
    ], may_refuse


def _without_columns(node: object) -> object:
    if isinstance(node, dict):
        return {
            k: _without_columns(v)
            for k, v in node.items()
            if not ("line" in node and k in ("col", "end_col"))
        }
    if isinstance(node, list):
        return [_without_columns(v) for v in node]
    return node


def _meaning(loaded: Any) -> object:
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    ir["source"] = None  # the hash of the text differs; the meaning must not
    return _without_columns(ir)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated_agreements())
def test_fmt_keeps_every_clean_agreement_clean_the_same_and_fixed(
    case: tuple[str, set[str]],
) -> None:
    text, may_refuse = case
    loaded = load_source(SourceFile("a.yaml", text))
    assume(loaded.ok)
    out, refused = format_agreement(loaded)
    if out is None:
        # Only what the mutation made unkeepable; never F002 (a layout that would change meaning).
        codes = {d.code for d in refused}
        assert codes and codes <= may_refuse, [f"{d.code} {d.message}" for d in refused]
        return
    assert refused == []
    again = load_source(SourceFile("a.yaml", out))
    assert again.ok, [f"{d.code} {d.span.line}: {d.message}" for d in again.errors]
    assert _meaning(again) == _meaning(loaded)
    assert sorted((d.code, d.span.line) for d in again.diagnostics) == sorted(
        (d.code, d.span.line) for d in loaded.diagnostics
    )
    assert format_text(again) == out
    assert len(out.splitlines()) == len(text.splitlines())
