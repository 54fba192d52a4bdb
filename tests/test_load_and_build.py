"""Loading: YAML positions, DSL block offsets mapped into the file, contributions evaluated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agreementdsl import load_source
from agreementdsl.conditions import describe_rule, holds, rule_applies
from agreementdsl.contributions import evaluate_contributions
from agreementdsl.loader import compose, parse_yaml
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")


def _load(text: str):  # type: ignore[no-untyped-def]
    return load_source(SourceFile("a.yaml", text))


def test_positions_inside_a_literal_block_point_into_the_file() -> None:
    loaded = _load(HEREFORDSHIRE)
    assert loaded.agreement is not None
    pool = loaded.agreement.pools[0]
    rule = pool.spending[1]  # `up to £250,000: board`
    line = HEREFORDSHIRE.split("\n")[rule.span.line - 1]
    assert line[rule.span.col - 1 :].startswith("up to £250,000: board")
    approver = rule.approvers[0]
    assert line[approver.span.col - 1 : approver.span.end_col - 1] == "board"


def test_positions_inside_a_quoted_flow_value_point_into_the_file() -> None:
    text = HEREFORDSHIRE.replace(
        '2006/07: { hpct: "prior year + 2.5%"', '2006/07: { hpct: "prior year + 2.5%%"'
    )
    [err] = [d for d in _load(text).errors if d.code == "E201"]
    line = text.split("\n")[err.span.line - 1]
    assert line[err.span.col - 1] == "%"


def test_duplicate_keys_are_reported_not_silently_overwritten() -> None:
    tree, diags = parse_yaml(SourceFile("a.yaml", "agreement:\n  id: a\n  id: b\n"))
    assert tree is not None
    assert [(d.code, d.span.line) for d in diags] == [("E003", 3)]


def test_contributions_chain_through_named_and_prior_years() -> None:
    text = HEREFORDSHIRE.replace(
        '      2006/07: { hpct: "prior year + 2.5%", hc: "prior year" }\n'
        '      2007/08: { hpct: "prior year + 2.5%", hc: "prior year" }',
        '      2006/07: { hpct: "prior year + 2.5%", hc: "prior year - £100,000" }\n'
        '      2007/08: { hpct: "2005/06 + 3%", hc: "prior year + 1.5%" }',
    )
    loaded = _load(text)
    assert loaded.errors == []
    assert loaded.agreement is not None
    values, diags = evaluate_contributions(loaded.agreement.pools[0])
    assert diags == []
    assert values["2006/07"]["hpct"].pence == 1_363_250_000
    assert values["2006/07"]["hc"].pence == 400_000_000
    assert values["2007/08"]["hpct"].pence == 1_369_900_000  # 13.3m + 3% = 13,699,000
    assert values["2007/08"]["hc"].pence == 406_000_000  # 4.0m + 1.5% = 4,060,000


def test_a_contribution_cycle_is_an_error_not_a_hang() -> None:
    text = HEREFORDSHIRE.replace(
        '      2006/07: { hpct: "prior year + 2.5%", hc: "prior year" }\n'
        '      2007/08: { hpct: "prior year + 2.5%", hc: "prior year" }',
        '      2006/07: { hpct: "2007/08 + 1%", hc: "prior year" }\n      2007/08: { hpct: "prior year", hc: "prior year" }',
    )
    assert "E507" in {d.code for d in _load(text).errors}


def test_conditions_and_rule_text() -> None:
    loaded = _load(HEREFORDSHIRE)
    assert loaded.agreement is not None
    respite = loaded.agreement.pools[1].spending[0]
    assert describe_rule(respite) == "up to £10,000 where element is respite: ld-manager"
    assert respite.where is not None
    assert holds(respite.where, {"element": "respite"})
    assert not holds(respite.where, {"element": "council"})
    assert rule_applies(respite, 1_000_000, False, {"element": "respite"})
    assert not rule_applies(respite, 1_000_001, False, {"element": "respite"})


# ---------------------------------------------------------------- libyaml and PyYAML agree
def _nodes(
    node: yaml.Node, out: list[tuple[object, ...]], seen: set[int] | None = None
) -> list[tuple[object, ...]]:
    """Every node once, in order: an alias repeats a node, and an alias bomb (E012's defect
    file) repeats it billions of times, so a node already walked is not walked again."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        out.append(("again", node.start_mark.line, node.start_mark.column))
        return out
    seen.add(id(node))
    s, e = node.start_mark, node.end_mark
    style = getattr(node, "style", None) or None
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    out.append((type(node).__name__, node.tag, style, s.line, s.column, e.line, e.column, value))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _nodes(k, out, seen)
            _nodes(v, out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _nodes(v, out, seen)
    return out


YAML_FILES = sorted(
    p
    for folder in ("agreements", "tests/defects", "tests/data")
    for p in (ROOT / folder).rglob("*.yaml")
)
EDGES = {
    "crlf": "a: 1\r\nb: £2\r\n",
    "next line": "a: x\x85b: 2\n",
    "line separator": "a: x\u2028y\nb: 2\n",
    "astral": "a: 😀 x\nb: 2\n",
    "folded": "a: >\n  one\n  two\nb: |\n  three\n",
    "quoted": "a: 'x'\nb: \"y\\n\"\n",
    "flow": "a: { hpct: £13,300,000 }\n",
}


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_gives_the_nodes_and_positions_pyyaml_gives(path: Path) -> None:
    try:
        text = SourceFile.read(path).text
    except UnicodeDecodeError:
        pytest.skip("not UTF-8")
    _same_as_pyyaml(text)


@pytest.mark.parametrize("text", EDGES.values(), ids=list(EDGES))
def test_libyaml_and_pyyaml_agree_on_awkward_text(text: str) -> None:
    _same_as_pyyaml(text)


def _same_as_pyyaml(text: str) -> None:
    try:
        expected = [_nodes(d, []) for d in yaml.compose_all(text, Loader=yaml.SafeLoader)]
    except yaml.YAMLError as exc:
        with pytest.raises(yaml.YAMLError) as raised:
            compose(text)
        assert str(raised.value) == str(exc)  # errors are PyYAML's words, always
        return
    assert [_nodes(d, []) for d in compose(text)] == expected


@pytest.mark.parametrize("text", ["a: 1\t\nb: 2\n", "\ufeffa: 1\n", "a:\n  - [1,\n"])
def test_text_libyaml_reads_differently_is_read_by_pyyaml(text: str) -> None:
    _same_as_pyyaml(text)  # tabs (libyaml accepts them), a byte-order mark, a syntax error
