"""Rendering: golden Markdown and HTML, byte-identical output, and a Word file faithful to the IR."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pytest
from click.testing import CliRunner

from agreementdsl import load
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.money import format_money, parse_amount
from agreementdsl.render import build_document
from agreementdsl.render.docx import docx_text
from agreementdsl.render.environment import environment
from agreementdsl.render.whole import drafting_notes
from agreementdsl.render.words import count_words, percent_words
from agreementdsl.render.writers import render_html, render_markdown

if TYPE_CHECKING:
    from conftest import Golden

ROOT = Path(__file__).resolve().parents[1]
AGREEMENTS = sorted(
    p.relative_to(ROOT)
    for p in (ROOT / "agreements").glob("*.yaml")
    if not p.name.endswith(".test.yaml")
)
MONEY = re.compile(r"£[0-9][0-9,]*(?:\.[0-9]{2})?")


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in the draft notice are as a user at the repo root types them


def _ir(path: Path) -> dict[str, Any]:
    loaded = load(path)
    assert loaded.agreement is not None and loaded.source is not None and loaded.ok
    return compile_agreement(loaded.agreement, loaded.source.text)


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.stem)
def test_markdown_and_html_match_their_golden_files(path: Path, golden: Golden) -> None:
    loaded = load(path)
    doc = build_document(_ir(path), drafting_notes(loaded.diagnostics, loaded.agreement))
    golden.check(ROOT / "tests" / "golden" / "render" / f"{path.stem}.md", render_markdown(doc))
    golden.check(ROOT / "tests" / "golden" / "render" / f"{path.stem}.html", render_html(doc))


@pytest.mark.parametrize("annotate", [False, True])
def test_the_same_agreement_gives_byte_identical_files(tmp_path: Path, annotate: bool) -> None:
    args = ["render", "agreements/herefordshire.yaml", "--format", "all"] + (
        ["--annotate"] if annotate else []
    )
    for name in ("one", "two"):
        result = CliRunner().invoke(main, [*args, "--output", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    for fmt in ("md", "html", "docx"):
        one = (tmp_path / "one" / f"herefordshire.{fmt}").read_bytes()
        assert one == (tmp_path / "two" / f"herefordshire.{fmt}").read_bytes(), fmt
    with zipfile.ZipFile(tmp_path / "one" / "herefordshire.docx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# ---------------------------------------------------------------- the Word file, read back
def _docx(tmp_path: Path, path: Path, annotate: bool = False) -> Path:
    args = ["render", str(path), "--format", "docx", "--output", str(tmp_path)]
    result = CliRunner().invoke(main, args + (["--annotate"] if annotate else []))
    assert result.exit_code == 0, result.output
    return tmp_path / f"{path.stem}.docx"


def _parts(text: str) -> dict[tuple[int, str], str]:
    """The text of each Part of each Schedule, keyed by (schedule number, part title)."""
    parts: dict[tuple[int, str], str] = {}
    schedule, part = 0, ""
    for line in text.split("\n"):
        if m := re.match(r"Schedule (\d+): ", line):
            schedule, part = int(m.group(1)), ""
        elif m := re.match(r"Part \d+: (.+)", line):
            part = m.group(1)
        elif schedule and part:
            parts[(schedule, part)] = parts.get((schedule, part), "") + line + "\n"
    return parts


def _part(
    parts: dict[tuple[int, str], str], ir: dict[str, Any], number: int, pool: Any, title: str
) -> str:
    """A pool's Part by its title: Schedule `number`'s Part of that title, or, in the Better Care
    Fund layout, the pool's Part of Schedule 3 (risk share) or Schedule 2 (governance)."""
    if ir["agreement"].get("programme") != "bcf":
        return parts[(number, title)]
    return parts[(3 if title.startswith("Risk share") else 2, pool["name"])]


def _ir_amounts(ir: dict[str, Any]) -> set[int]:
    amounts: set[int] = set()
    for pool in ir["pools"]:
        for year in pool["contributions"]:
            amounts.add(parse_amount(year["total"]))
            for row in year["partners"]:
                amounts.add(parse_amount(row["amount"]))
                if row["basis"] and row["basis"]["amount"]:
                    amounts.add(parse_amount(row["basis"]["amount"]))
        for budget in pool["budgets"]:
            amounts.update(parse_amount(e["amount"]) for e in budget["elements"])
        for section in (pool["risk_share"] or {}).values():
            amounts.update(parse_amount(s["amount"]) for s in section["steps"] if s["amount"])
        amounts.update(parse_amount(r["limit"]) for r in pool["spending"] if r["limit"])
        amounts.update(
            parse_amount(d["trigger"]["amount"])
            for d in pool["reporting"]
            if d["trigger"] and d["trigger"]["amount"]
        )
        exit_terms = (pool["exit"] or {}).get("waterfall") or {}
        for section in exit_terms.values():
            amounts.update(parse_amount(s["amount"]) for s in section["steps"] if s["amount"])
        for scheme in pool["schemes"]:
            amounts.update(parse_amount(y["amount"]) for y in scheme["spend"] if y["amount"])
        if pool["bcf"]:
            amounts.update(
                parse_amount(y["amount"]) for y in pool["bcf"]["adult_social_care"] if y["amount"]
            )
    return amounts


def _short(ir: dict[str, Any], partner: str) -> str:
    found = next(p for p in ir["partners"] if p["id"] == partner)
    return found["short_name"] or partner.upper()


def _role(ir: dict[str, Any], role: str) -> str:
    return (
        "each of the Partners"
        if role == "partners"
        else next(r["title"] for r in ir["roles"] if r["id"] == role)
    )


ALLOCATION_WORDS = {
    "by-contribution": "in proportion to their contributions",
    "equally": "equal",
    "by-element": "their parts of the",
    "carried-forward": "retained in the Pooled Fund and carried forward",
}


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.stem)
def test_every_rule_of_the_ir_appears_in_the_word_file(tmp_path: Path, path: Path) -> None:
    ir = _ir(path)
    text = docx_text(_docx(tmp_path, path))
    parts = _parts(text)
    for number, pool in enumerate(ir["pools"], start=1):
        risk = _part(parts, ir, number, pool, "Risk share: Overspends and Underspends")
        paragraphs = risk.split("\n")
        for direction, section in (pool["risk_share"] or {}).items():
            steps = [p for p in paragraphs if f"of any {direction.capitalize()}" in p]
            assert len(steps) == len(section["steps"]), (pool["id"], direction)
            for step, line in zip(section["steps"], steps, strict=True):
                if step["amount"]:
                    assert format_money(parse_amount(step["amount"]), always_pence=False) in line
                if step["pool_percent"]:
                    assert percent_words(Decimal(step["pool_percent"])) in line
                alloc = step["allocation"]
                if alloc["type"] == "to":
                    who = (
                        "The Host Partner"
                        if alloc["as_written"] == "host"
                        else _short(ir, alloc["partner"])
                    )
                    assert who in line
                elif alloc["type"] == "split":
                    for share in alloc["shares"]:
                        assert (
                            f"{_short(ir, share['partner'])} as to {percent_words(Decimal(share['percent']))}"
                            in line
                        )
                else:
                    assert ALLOCATION_WORDS[alloc["type"]] in line
        authority = _part(parts, ir, number, pool, "Delegated authority")
        rows = [line for line in authority.split("\n") if re.match(r"\d+ \| ", line)]
        assert len(rows) == len(pool["spending"])
        for rule, row in zip(pool["spending"], rows, strict=True):
            limit = (
                format_money(parse_amount(rule["limit"]), always_pence=False)
                if rule["limit"]
                else "any amount"
            )
            assert limit in row
            for approver in rule["approvers"]:
                assert _role(ir, approver) in row
            if len(rule["approvers"]) > 1:
                assert "jointly" in row
        reporting = _part(parts, ir, number, pool, "Monitoring and reporting")
        for duty in pool["reporting"]:
            deadline = count_words(duty["deadline"]["count"], duty["deadline"]["unit"])
            assert any(
                duty["report"] in line
                and _role(ir, duty["to"]) in line
                and f"within {deadline}" in line
                for line in reporting.split("\n")
            ), duty
        ladder = _part(parts, ir, number, pool, "Dispute resolution")
        disputes = [line for line in ladder.split("\n") if "stands referred" in line]
        assert len(disputes) == len(pool["disputes"])
        for stage, line in zip(pool["disputes"], disputes, strict=True):
            holder = _role(ir, stage["role"]) if stage["role"] else stage["holder"]
            if stage["kind"] == "mediation":  # the mediator's procedure follows the ladder
                holder, _, mediator = holder.partition(" by ")
                assert mediator in ladder
            assert holder in line
            if stage["limit"]:
                assert count_words(stage["limit"]["count"], stage["limit"]["unit"]) in line
    found = {parse_amount(m) for m in MONEY.findall(text)}
    assert found, "the document states amounts"
    assert found <= _ir_amounts(ir), (
        f"amounts in the text that the IR does not have: {found - _ir_amounts(ir)}"
    )


def test_the_word_file_has_a_draft_header_page_numbers_and_real_styles(tmp_path: Path) -> None:
    import docx

    path = _docx(tmp_path, Path("agreements/herefordshire.yaml"))
    word = docx.Document(str(path))
    header = word.sections[0].header.paragraphs[0].text
    assert header.startswith("DRAFT generated from agreements/herefordshire.yaml (sha256 ")
    footer = word.sections[0].footer._element.xml
    assert 'w:instr="PAGE"' in footer and 'w:instr="NUMPAGES"' in footer
    styles = {p.style.name for p in word.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Clause", "Clause 2", "List Bullet"} <= styles
    assert all(t.style.name == "Table Grid" for t in word.tables)


def test_annotate_adds_a_comment_with_the_source_line(tmp_path: Path) -> None:
    path = _docx(tmp_path, Path("agreements/herefordshire.yaml"), annotate=True)
    with zipfile.ZipFile(path) as archive:
        comments = archive.read("word/comments.xml").decode("utf-8")
    lines = Path("agreements/herefordshire.yaml").read_text("utf-8").split("\n")
    sources = re.findall(r"Generated from agreements/herefordshire.yaml:(\d+)", comments)
    assert len(sources) > 20
    # dated as the agreement is: Herefordshire states no `signed`, so its commencement
    assert 'w:date="2005-04-01T00:00:00Z"' in comments
    # the comment on the first overspend step cites the line that says it
    assert any("first £280,000 to host" in lines[int(n) - 1] for n in sources)
    html = render_html(build_document(_ir(Path("agreements/herefordshire.yaml"))), annotate=True)
    assert '<aside class="source">agreements/herefordshire.yaml:46</aside>' in html


# ---------------------------------------------------------------- the document's own rules
def test_defined_terms_are_defined_once_and_numbers_are_generated() -> None:
    doc = build_document(_ir(Path("agreements/bcf-wealdshire.yaml")))
    md = render_markdown(doc)
    definitions = re.findall(r'\*\*"([^"]+)"\*\* means', md)
    assert len(definitions) == len(set(definitions))
    for term in (
        "Host Partner",
        "Pooled Fund",
        "Pooled Fund Manager",
        "Financial Year",
        "Working Day",
    ):
        assert term in definitions
        assert md.count(f'**"{term}"**') == 1
    assert "⟦" not in md
    numbers = re.findall(r"^\*\*(\d+(?:\.\d+)*)\*\* ", md, re.M)
    assert numbers[:3] == ["1.1", "1.1.1", "1.1.2"]


def test_a_missing_value_in_a_template_is_an_error_naming_the_template_and_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.md.j2").write_text(
        "Fine so far.\nThe Host Partner is {{ host_partner }}.\n"
    )
    env = environment(str(tmp_path))
    with pytest.raises(jinja2.UndefinedError) as caught:
        env.get_template("broken.md.j2").render()
    assert "host_partner" in str(caught.value)
    frames = [
        line for line in __import__("traceback").format_tb(caught.tb) if "broken.md.j2" in line
    ]
    assert frames and "line 2" in frames[-1]


def test_render_refuses_an_agreement_with_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path("agreements/herefordshire.yaml").read_text("utf-8").replace("to host", "to nobody")
    )
    result = CliRunner().invoke(main, ["render", str(bad), "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "error[E301]" in result.output
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the HTML in a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def _open_in_chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    if CHROMIUM is None:
        pytest.fail(
            "chromium is not installed: `make test` installs it (Debian packages chromium, chromium-driver)"
        )
    done = subprocess.run(
        [
            CHROMIUM,
            *BROWSER_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return done.stdout, console


def test_the_html_renders_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "herefordshire.html"
    page.write_text(
        render_html(build_document(_ir(Path("agreements/herefordshire.yaml"))), annotate=True),
        "utf-8",
    )
    dom, console = _open_in_chromium(page, tmp_path)
    assert console == []
    assert "Schedule 1: Mental Health Services Pooled Fund" in dom
    assert (
        "The Host Partner shall bear so much of any Overspend as does not exceed £280,000 (two hundred and eighty thousand pounds)"
        in dom
    )


def test_the_browser_check_does_catch_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><title>x</title><script>console.error('broken page')</script>", "utf-8"
    )
    _, console = _open_in_chromium(page, tmp_path)
    assert any("broken page" in line for line in console)


# ---------------------------------------------------------------- who may stand in (0.3)
def test_the_schedule_states_who_may_stand_in_exactly_as_the_engine_applies_it() -> None:
    ir = _ir(Path("agreements/bcf-wealdshire.yaml"))
    md = render_markdown(build_document(ir))
    # one district's housing manager never stands in for another's; the bodies do
    assert (
        "| The Ashdown Private Sector Housing Manager | The Ashdown Private Sector Housing Manager, "
        "the Wealdshire Housing and Health Delivery Group or the Wealdshire BCF Joint Commissioning "
        "Board |"
    ) in md
    # the county's s151 officer ranks above the board but never stands in for it
    assert (
        "| The Wealdshire BCF Joint Commissioning Board | The Wealdshire BCF Joint Commissioning "
        "Board or the Chief Executives of the Partners |"
    ) in md
    assert "An officer's approval never satisfies a requirement for approval by a body" in md


def test_only_named_approvers_is_drafted_without_a_stand_in_table(tmp_path: Path) -> None:
    text = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
    path = tmp_path / "only.yaml"
    path.write_text(
        text.replace(
            "      above: executives and board\n",
            "      above: executives and board\n      only named approvers\n",
        ),
        "utf-8",
    )
    md = render_markdown(build_document(_ir(path)))
    learning = md[md.index("## Schedule 2: Learning Disabilities Pooled Fund") :]
    assert (
        "Only the officer or body named in the row that applies may give the approval" in learning
    )
    assert learning.count("| Approval required from | May be given by |") == 0
    assert md.count("| Approval required from | May be given by |") == 1  # mental health's
