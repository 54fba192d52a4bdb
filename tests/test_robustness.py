"""No input, however malformed, produces a traceback: random mutations of valid agreements."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl import load_source
from agreementdsl.diagnostics import format_json_report, format_text_report
from agreementdsl.source import SourceFile

AGREEMENTS = sorted((Path(__file__).resolve().parents[1] / "agreements").glob("*.yaml"))
TEXTS = [p.read_text("utf-8") for p in AGREEMENTS if not p.name.endswith(".test.yaml")]
WORDS = [
    "first",
    "next",
    "rest",
    "to",
    "host",
    "by",
    "contribution",
    "element",
    "equally",
    "split",
    "carried forward",
    "up to",
    "above",
    "within plan",
    "where",
    "and",
    "or",
    "not",
    "is",
    "in",
    "monthly",
    "when",
    "forecast",
    "overspend:",
    "underspend:",
    "exceeds",
    "mediation",
    "£",
    "£1.5m",
    "£0.005",
    "%",
    "12%",
    "2005/06",
    "2005/07",
    "prior year",
    "+",
    "-",
    ":",
    "|",
    ">",
    "{",
    "}",
    "[",
    "]",
    '"',
    "'",
    "\t",
    "\n",
    "  ",
    "#",
    "&a",
    "*a",
    "!!int",
    "---",
    "~",
    "null",
    "1.",
    "0",
    "-1",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        lines = text.split("\n")
        choice = draw(st.integers(min_value=0, max_value=5))
        i = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
        if choice == 0 and lines:
            del lines[i]
        elif choice == 1 and lines:
            lines.insert(i, lines[draw(st.integers(min_value=0, max_value=len(lines) - 1))])
        elif choice == 2:
            pos = draw(st.integers(min_value=0, max_value=len(text)))
            text = text[:pos] + draw(st.sampled_from(WORDS)) + text[pos:]
            continue
        elif choice == 3:
            pos = draw(st.integers(min_value=0, max_value=max(0, len(text) - 1)))
            text = text[:pos] + text[pos + draw(st.integers(min_value=1, max_value=20)) :]
            continue
        elif choice == 4:
            text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
            continue
        else:
            pos = draw(st.integers(min_value=0, max_value=len(text)))
            text = text[:pos] + draw(st.text(max_size=5)) + text[pos:]
            continue
        text = "\n".join(lines)
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_agreements_never_raise(text: str) -> None:
    source = SourceFile("fuzz.yaml", text)
    loaded = load_source(source)
    format_text_report(loaded.diagnostics, {"fuzz.yaml": source})
    format_json_report(loaded.diagnostics)
    for d in loaded.diagnostics:
        assert d.code[0] in "EW" and len(d.code) == 4
        assert d.span.line >= 1 and d.span.col >= 1
        assert d.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    loaded = load_source(SourceFile("fuzz.yaml", text))
    assert loaded.diagnostics or loaded.agreement is not None
