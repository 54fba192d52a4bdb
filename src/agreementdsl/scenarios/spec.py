"""Reading scenario files: which agreement, which inputs, which expectations, and where each is."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, error
from ..files import AGREEMENT_LIMIT, FileRefused, inside, read_regular, repository_root
from ..loader import YNode, parse_yaml
from ..source import SourceFile, Span

INPUT_KEYS = {
    "name",
    "pool",
    "year",
    "as_of",
    "outturn",
    "transaction",
    "transactions",
    "ledger",
    "disputes",
    "exit_on",
    "partner",
    "notice_given",
    "years",
    "expect",
}
# Expectations about the pool's money, explained by the settlement's working when they fail.
FIGURE_KEYS = frozenset(
    {
        "budget",
        "actual",
        "forecast",
        "overspend",
        "underspend",
        "balanced",
        "settlement",
        "carried_forward",
    }
)
EXPECT_KEYS = FIGURE_KEYS | {
    "required",
    "recorded",
    "compliant",
    "approvals",
    "reports",
    "raised",
    "disputes",
    "rejected",
    "unapproved_spend",
    "received",
}
TEST_SUFFIXES = (".test.yaml", ".test.yml")


@dataclass
class Scenario:
    name: str
    span: Span
    pool: str | None
    year: str | None
    as_of: str | None
    outturn: str | None
    transactions: list[dict[str, Any]]
    single: bool  # written as `transaction:` (expectations about that one spend)
    ledger: Path | None
    disputes: list[dict[str, Any]]
    expect: dict[str, Any]
    expect_spans: dict[str, Span]
    expect_node: YNode | None
    span_node: YNode | None = None
    exit_on: str | None = None  # the exit settlement at this date instead of the year's
    partner: str | None = None  # with exit_on: the partner that leaves
    notice_given: str | None = None
    years: str | None = None  # `2004/05..2005/06`: expectations are of the last year, chained


@dataclass
class TestFile:
    path: Path
    source: SourceFile
    agreement_id: str | None
    agreement_path: Path | None
    scenarios: list[Scenario] = field(default_factory=list)
    agreement_span: Span | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def find_test_files(paths: list[Path]) -> list[Path]:
    """`*.test.yaml` files named directly or found under folders (an agreement file named
    directly brings its neighbouring test file)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.name.endswith(TEST_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.name.endswith(TEST_SUFFIXES):
            found.append(path)
        else:
            neighbour = path.with_name(path.name.rsplit(".", 1)[0] + ".test.yaml")
            if neighbour.exists():
                found.append(neighbour)
    return list(dict.fromkeys(found))


def _plain(node: YNode) -> Any:
    return node.plain()


def _agreement_path(test: Path, agreement_id: str | None) -> Path | None:
    stem = test.name
    for suffix in TEST_SUFFIXES:
        stem = stem.removesuffix(suffix)
    neighbour = test.with_name(stem + ".yaml")
    if neighbour.exists():
        return neighbour
    if agreement_id:
        import yaml

        for candidate in sorted(test.parent.glob("*.yaml")):
            if candidate.name.endswith(TEST_SUFFIXES):
                continue
            try:
                data = yaml.safe_load(read_regular(candidate, AGREEMENT_LIMIT).decode("utf-8"))
            except (yaml.YAMLError, OSError, UnicodeDecodeError, FileRefused):
                continue
            if (
                isinstance(data, dict)
                and isinstance(data.get("agreement"), dict)
                and data["agreement"].get("id") == agreement_id
            ):
                return candidate
    return None


def read_test_file(path: Path) -> TestFile:
    """A scenario file, with every structural problem as a diagnostic."""
    try:
        source = SourceFile.read(path)
    except (OSError, UnicodeDecodeError, FileRefused) as exc:
        empty = SourceFile(str(path), "")
        diag = (
            error(exc.code, Span(str(path), 1, 1), exc.message, exc.hint)
            if isinstance(exc, FileRefused)
            else error("T001", Span(str(path), 1, 1), f"cannot read the scenario file: {exc}")
        )
        return TestFile(path, empty, None, None, diagnostics=[diag])
    tree, diags = parse_yaml(source)
    result = TestFile(path, source, None, None, diagnostics=list(diags))
    if tree is None:
        return result
    agreement = tree.get("agreement")
    result.agreement_id = (
        agreement.value if agreement is not None and isinstance(agreement.value, str) else None
    )
    result.agreement_path = _agreement_path(path, result.agreement_id)
    if result.agreement_path is None:
        result.diagnostics.append(
            error(
                "T002",
                (agreement.span if agreement else tree.span),
                f"no agreement found for {path.name}",
                f"put it beside the agreement it tests ({path.name.split('.test.')[0]}.yaml), or name the agreement's id in `agreement:`",
            )
        )
    scenarios = tree.get("scenarios")
    if scenarios is None or not scenarios.is_seq:
        result.diagnostics.append(
            error("T003", tree.span, "a scenario file needs a `scenarios:` list")
        )
        return result
    for item in scenarios.value:
        scenario = _scenario(path, item, result.diagnostics)
        if scenario is not None:
            result.scenarios.append(scenario)
    return result


def _text(node: YNode | None) -> str | None:
    if node is None or node.value is None:
        return None
    return str(node.value)


def _ledger_path(path: Path, item: YNode, diags: list[Diagnostic]) -> Path | None:
    """A scenario's `ledger:`, against the scenario file's folder; None (and T008) when it
    leads out of the repository (outside a git repository: out of the scenario file's folder),
    so that a scenario file from elsewhere cannot make the tool read any file on the machine."""
    node = item.get("ledger")
    text = _text(node)
    if node is None or not text:
        return None
    ledger = path.parent / text
    root = repository_root(path)
    if inside(ledger, root):
        return ledger
    diags.append(
        error(
            "T008",
            node.span,
            f"the ledger `{text}` is outside {'the repository' if (root / '.git').exists() else 'the folder of the scenario file'} ({root})",
            "keep scenario ledgers in the repository, and name them relative to the scenario file",
        )
    )
    return None


def _scenario(path: Path, item: YNode, diags: list[Diagnostic]) -> Scenario | None:
    if not item.is_map:
        diags.append(
            error("T003", item.span, "each scenario is a mapping with `name:` and `expect:`")
        )
        return None
    for key, span in item.keys.items():
        if key not in INPUT_KEYS:
            diags.append(
                error(
                    "T004",
                    span,
                    f"unknown scenario key `{key}`",
                    f"scenario keys: {', '.join(sorted(INPUT_KEYS))}",
                )
            )
    expect = item.get("expect")
    expect_spans: dict[str, Span] = {}
    if expect is not None and expect.is_map:
        for key, span in expect.keys.items():
            expect_spans[key] = span
            if key not in EXPECT_KEYS:
                diags.append(
                    error(
                        "T005",
                        span,
                        f"unknown expectation `{key}`",
                        f"expectations: {', '.join(sorted(EXPECT_KEYS))}",
                    )
                )
    name = _text(item.get("name")) or f"scenario at line {item.span.line}"
    single = item.get("transaction")
    many = item.get("transactions")
    transactions = (
        [_plain(single)]
        if single is not None
        else ([_plain(t) for t in many.value] if many is not None and many.is_seq else [])
    )
    if any(not isinstance(t, dict) for t in transactions):
        diags.append(
            error(
                "T006",
                item.span,
                f"scenario `{name}`: each transaction is a mapping of ledger columns",
            )
        )
        return None
    ledger = _ledger_path(path, item, diags)
    if ledger is None and _text(item.get("ledger")):
        return None  # refused (T008): the scenario is not run on other rows instead
    disputes = item.get("disputes")
    return Scenario(
        name=name,
        span=item.span,
        pool=_text(item.get("pool")),
        year=_text(item.get("year")),
        as_of=_text(item.get("as_of")),
        outturn=_text(item.get("outturn")),
        transactions=transactions,
        single=single is not None,
        ledger=ledger,
        disputes=[_plain(d) for d in disputes.value]
        if disputes is not None and disputes.is_seq
        else [],
        expect=_plain(expect) if expect is not None and expect.is_map else {},
        expect_spans=expect_spans,
        expect_node=expect,
        span_node=item,
        exit_on=_text(item.get("exit_on")),
        partner=_text(item.get("partner")),
        notice_given=_text(item.get("notice_given")),
        years=_text(item.get("years")),
    )
