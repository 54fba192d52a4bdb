"""Untrusted text in rendered documents and diffs: agreement text shows as written, in every
format, and can never become markup — no raw HTML or links in Markdown, no tracked changes,
bold or cross-references from names that hold the document's own marker characters."""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from agreementdsl.api import load_source
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.render import build_document
from agreementdsl.render.docx import build_docx, docx_text
from agreementdsl.render.markup import (
    SPECIAL,
    code_span,
    markdown,
    markdown_text,
    protect,
    release,
)
from agreementdsl.render.redline import redline
from agreementdsl.render.writers import render_html, render_markdown
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
BASELINE = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"
PRIVATE = "\ue000in\ue001\ue002de\ue003\ue00f0"
HOSTILE = {
    # each replaces a piece of the baseline agreement; all are quoted YAML strings
    "title: Baseline Partnership Agreement": f'title: "Pact {SCRIPT} | # *x* `y`"',
    "name: A Primary Care Trust": f'name: "A {IMG} Trust"',
    "name: A Council": f'name: "Council {LINK} &amp; <b>bold</b>"',
    "name: Mental Health Pooled Fund": f'name: "Fund **not bold** ⟦ref:nowhere⟧ {PRIVATE}"',
    "title: Pooled Budget Manager": 'title: "Manager_of ~~funds~~ $x$"',
    "- Community mental health teams": '- "- 1. # > looks like a list"',
    "aims: One integrated mental health service.": (
        'aims: "Aims\\nspanning\\n\\n# lines\\n| a | b |\\n[y]: javascript:alert(2)"'
    ),
}


def hostile_text() -> str:
    text = BASELINE
    for old, new in HOSTILE.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def compiled(text: str, name: str = "hostile.yaml") -> dict[str, Any]:
    loaded = load_source(SourceFile(name, text))
    assert loaded.errors == [], [f"{d.code} {d.message}" for d in loaded.errors]
    assert loaded.agreement is not None
    return compile_agreement(loaded.agreement, text)


def as_html(md: str) -> str:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").render(md)


# ---------------------------------------------------------------- protect / release
@pytest.mark.parametrize(
    "text", ["", "plain", "".join(SPECIAL), PRIVATE, "**b** ⟦ref:x⟧ \ue00f9 \ue00f"]
)
def test_release_undoes_protect_exactly_and_protected_text_holds_no_markup(text: str) -> None:
    protected = protect(text)
    assert release(protected) == text
    assert not set(protected) & set("*⟦⟧\ue000\ue001\ue002\ue003")


# ---------------------------------------------------------------- Markdown
def test_ordinary_prose_is_left_alone() -> None:
    prose = "Carers' breaks, St. Mary's (2-hour) £1,000.50 and 50% — as agreed."
    assert markdown_text(prose) == prose
    assert markdown_text(prose, block_start=True) == prose


def test_markdown_escapes_syntax_and_html() -> None:
    assert markdown_text(SCRIPT) == "\\<script\\>alert(1)\\</script\\>"
    assert markdown_text(LINK) == "\\[x\\](javascript:alert(1))"
    assert markdown_text("a|b #c *d* `e` _f_ ~g~ $h$ \\") == (
        "a\\|b \\#c \\*d\\* \\`e\\` \\_f\\_ \\~g\\~ \\$h\\$ \\\\"
    )
    assert markdown_text("&amp; & &#60;") == "\\&amp; & &\\#60;"  # each shows as typed
    assert markdown_text("- item", block_start=True) == "\\- item"
    assert markdown_text("12. item", block_start=True) == "12\\. item"
    assert markdown_text("one\n\n# two\r\nthree") == "one \\# two three"
    assert markdown("**bold** and " + protect("**not**")) == "**bold** and \\*\\*not\\*\\*"


def test_code_span_holds_any_text() -> None:
    assert code_span("a.yaml") == "`a.yaml`"
    assert code_span("a`b``c") == "```a`b``c```"
    assert code_span("`x") == "`` `x ``"


def test_render_md_of_hostile_names_shows_them_as_text() -> None:
    md = render_markdown(build_document(compiled(hostile_text())))
    page = as_html(md)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "javascript:" not in re.findall(r'href="([^"]*)"', page).__str__()
    assert "<a " not in page  # no links at all
    assert "<h1>Pact &lt;script&gt;alert(1)&lt;/script&gt; | # *x* `y`</h1>" in page
    assert html.escape(IMG, quote=False) in page
    assert "Council [x](javascript:alert(1)) &amp;amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "Fund **not bold** ⟦ref:nowhere⟧ " + PRIVATE in page
    assert "Manager_of ~~funds~~ $x$" in page
    assert "<li>- 1. # &gt; looks like a list</li>" in page
    assert "aims spanning # lines | a | b | [y]: javascript:alert(2)" in page  # one sentence
    # tables keep their shape: a `|` in a name does not add a column
    tables = re.findall(r"<table>(.*?)</table>", page, re.S)
    assert tables
    for table in tables:
        width = table.count("<th>") + table.count("<th ")
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S):
            assert row.count("<td") == width, row


def test_diff_md_escapes_hostile_names(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(BASELINE, "utf-8")
    new.write_text(hostile_text(), "utf-8")
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "md"])
    assert result.exit_code == 0, result.output
    page = as_html(result.output)
    assert "<script" not in page and "<img" not in page and "<a " not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    rows = [line for line in result.output.splitlines() if line.startswith("| ")]
    assert rows and all(len(re.split(r"(?<!\\)\|", row)) == 6 for row in rows)


# ---------------------------------------------------------------- marker characters
def test_private_use_characters_render_as_text_not_changes() -> None:
    ir = compiled(hostile_text())
    doc = build_document(ir)
    page = render_html(doc)
    assert "<ins>" not in page and "<del>" not in page
    assert PRIVATE in html.unescape(page)
    assert "⟦ref:nowhere⟧" in page and "**not bold**" in page
    xml = _document_xml(build_docx(doc))
    assert "<w:ins " not in xml and "<w:del " not in xml
    assert PRIVATE in xml and "⟦ref:nowhere⟧" in xml


def _document_xml(data: bytes) -> str:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("word/document.xml").decode("utf-8")


def test_redline_marks_only_the_change_and_keeps_marker_characters(tmp_path: Path) -> None:
    old_text = hostile_text()
    new_text = old_text.replace("Fund **not bold**", "Fund **still not bold**")
    marked = redline(build_document(compiled(old_text)), build_document(compiled(new_text)))
    page = render_html(marked)
    inserted = re.findall(r"<ins>(.*?)</ins>", page, re.S)
    deleted = re.findall(r"<del>(.*?)</del>", page, re.S)
    assert inserted and all(i.startswith("**still") for i in inserted), inserted
    assert all(d == "**not" for d in deleted), deleted  # the word diff, as for any text
    assert PRIVATE in html.unescape(page)
    xml = _document_xml(build_docx(marked))
    assert 0 < xml.count("<w:ins ") <= len(inserted)  # the HTML also names it in its contents
    assert xml.count("<w:del ") <= len(deleted)
    assert PRIVATE in xml


def test_every_text_survives_a_plain_render(tmp_path: Path) -> None:
    """Any characters YAML can carry in a name come out of each writer as they went in."""
    alphabet = "".join(SPECIAL) + "<>&|#`_[]()!\\\ue004\ue010\uf8ff£%'-. "
    name = "Fund " + alphabet
    text = BASELINE.replace("name: Mental Health Pooled Fund", f"name: {_yaml_quote(name)}", 1)
    doc = build_document(compiled(text))
    assert name in html.unescape(render_html(doc))
    path = tmp_path / "x.docx"
    path.write_bytes(build_docx(doc))
    # Word sets the apostrophe as a typographer would (’); every other character is as written
    assert name.replace("'", "\u2019") in docx_text(path)
    page = as_html(render_markdown(doc))
    assert html.escape(name, quote=False) in page.replace("&quot;", '"')


def _yaml_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_control_characters_are_shown_in_markdown_and_word_and_kept_in_html(
    tmp_path: Path,
) -> None:
    """Word files cannot hold most C0 controls (the render used to fail with a traceback);
    Markdown is read in terminals too. Both show them escaped; HTML keeps them exactly."""
    text = BASELINE.replace("name: A Council", 'name: "A \\e[31m Council \\u202e x"', 1)
    doc = build_document(compiled(text))
    md = render_markdown(doc)
    assert "\x1b" not in md and "\u202e" not in md
    assert "A \\\\x1b\\[31m Council \\\\u202e x" in md
    path = tmp_path / "x.docx"
    path.write_bytes(build_docx(doc))
    assert "A \\x1b[31m Council \u202e x" in docx_text(path)
    assert "A \x1b[31m Council \u202e x" in render_html(doc)


def _side(page: str, keep: str) -> str:
    """One side of a redline page: `new` drops deletions, `old` drops insertions."""
    drop = "del" if keep == "new" else "ins"
    page = re.sub(f"<{drop}>.*?</{drop}>", "", page, flags=re.S)
    return html.unescape(re.sub(r"</?(ins|del)>", "", page))


WORDS = st.text(
    alphabet=st.sampled_from([*SPECIAL, "a", "b", " ", "<", "&", "⟧", "\ue004", "\ue00f"]),
    min_size=1,
    max_size=12,
).filter(lambda t: t.strip() == t and "  " not in t)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WORDS, WORDS)
def test_a_redline_between_any_two_names_reads_back_as_each(old: str, new: str) -> None:
    """Whatever a pool's name holds, the redline's new side reads the new name, its old side
    the old name."""
    old_name, new_name = f"Fund {old} end", f"Fund {new} end"

    def doc(name: str) -> Any:
        text = BASELINE.replace("name: Mental Health Pooled Fund", f"name: {_yaml_quote(name)}", 1)
        return build_document(compiled(text))

    page = render_html(redline(doc(old_name), doc(new_name)))
    assert f"Schedule 1: {new_name}" in _side(page, "new")
    assert f"Schedule 1: {old_name}" in _side(page, "old")
