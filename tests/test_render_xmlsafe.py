"""DOCX text is valid XML whatever the agreement holds: names with every control character
render to a Word file that python-docx opens and a strict XML parser reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import docx
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from agreementdsl.cli import main
from agreementdsl.terminal import xml_safe

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
CONTROLS = "".join(f"\\x{i:02x}" for i in range(32)) + "\\x7f\\x85\\x9f\\ufffe\\uffff"


def hostile_agreement(tmp_path: Path) -> Path:
    text = (
        HEREFORDSHIRE.replace(
            "name: Herefordshire Primary Care Trust",
            f'name: "Herefordshire{CONTROLS}Primary Care Trust"',
            1,
        )
        .replace(
            "name: Mental Health Services Pooled Fund",
            f'name: "Mental Health{CONTROLS}Pooled Fund"',
            1,
        )
        .replace(
            "title: Partnership Agreement for Mental Health and Learning Disability Services",
            f'title: "Partnership{CONTROLS}Agreement"',
            1,
        )
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(text, "utf-8")
    return path


def _strict_xml(path: Path) -> str:
    """Every XML part of the package parsed strictly; the document's text."""
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.endswith((".xml", ".rels")):
                ET.fromstring(package.read(name))  # raises on any character XML cannot hold
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def test_names_with_control_characters_render_to_valid_docx(tmp_path: Path) -> None:
    agreement = hostile_agreement(tmp_path)
    check = CliRunner().invoke(main, ["check", str(agreement)])
    assert check.exit_code == 0, check.output
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["render", str(agreement), "--format", "docx", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = _strict_xml(out / "hostile.docx")
    assert "Herefordshire" in text and "Primary Care Trust" in text
    assert "Mental Health" in text and "Pooled Fund" in text
    assert not any(ch in text for ch in "\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\ufffe")


def test_a_redline_between_hostile_versions_is_valid_docx(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(HEREFORDSHIRE, "utf-8")
    new = hostile_agreement(tmp_path)
    folder = tmp_path / "redline"
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--redline", str(folder)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    path = folder / "hostile.redline.docx"
    _strict_xml(path)
    with zipfile.ZipFile(path) as package:  # tracked insertions are not in paragraph.text
        assert "Care Trust" in package.read("word/document.xml").decode("utf-8")


def _xml_char(c: str) -> bool:
    """XML 1.0's Char production, written out from the specification."""
    n = ord(c)
    return n in (0x9, 0xA, 0xD) or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or n >= 0x10000


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_any_text_made_xml_safe_parses_and_keeps_every_other_character(text: str) -> None:
    clean = xml_safe(text)
    assert all(_xml_char(c) for c in clean)
    ET.fromstring(f"<t>{clean.replace('&', '&amp;').replace('<', '&lt;')}</t>")
    refused = [c for c in text if not _xml_char(c) or 0x7F <= ord(c) <= 0x9F]
    if not refused:
        assert clean == text  # nothing else is touched
    for c in refused:  # each shown as its escape, never dropped
        assert (f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}") in clean
