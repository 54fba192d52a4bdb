"""The library's front door: load and check agreement files."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic, error, sort_diagnostics, warning
from .files import AGREEMENT_LIMIT, FileRefused, read_regular
from .model import Agreement
from .source import SourceFile, Span

AGREEMENT_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".test.yaml", ".test.yml")


@dataclass
class Loaded:
    """One file's outcome: the model (None when it could not be built) and every problem found."""

    path: str
    source: SourceFile | None
    agreement: Agreement | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def load_source(source: SourceFile) -> Loaded:
    """Parse, validate, build and check an agreement held in memory."""
    from .build import ModelBuilder
    from .checks import run_checks
    from .limits import count_problems
    from .loader import parse_yaml, split_money_lines, validate_schema

    tree, diags = parse_yaml(source)
    if tree is None:
        return Loaded(source.path, source, None, sort_diagnostics(diags))
    too_many = count_problems(tree)
    if too_many:  # refused before anything is built, so past a limit is quick
        return Loaded(source.path, source, None, sort_diagnostics(diags + too_many))
    split = split_money_lines(tree)
    diags = [d for d in diags if d.span.line not in split]
    diags.extend(d for d in validate_schema(tree) if d.span.line not in split)
    builder = ModelBuilder(source)
    agreement = builder.agreement(tree)
    diags.extend(builder.diagnostics)
    diags.extend(d for d in run_checks(agreement) if d.span.line not in split)
    diags.extend(
        error(
            "E510",
            span,
            "money inside `{ }` must be quoted: YAML splits `£13,300,000` at its commas",
            'write it in quotes, like `{ hpct: "£13,300,000", hc: "£4,100,000" }`',
        )
        for span in split.values()
    )
    return Loaded(source.path, source, agreement, sort_diagnostics(diags))


def display_name(path: str | Path) -> str:
    """The path as documents name it: relative to the current folder, or just the file name.

    Rendered schedules and compiled rules carry it, so it must not depend on how the path was
    typed or where the repository was checked out.
    """
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.name


def load(path: str | Path, name: str | None = None) -> Loaded:
    """Read and check one agreement file; problems are returned, never raised.

    `name` is how the file is named in spans and messages (default: the path as given).
    """
    if str(path).endswith(TEST_SUFFIXES):
        diag = error(
            "E008",
            Span(str(path), 1, 1),
            "this is a scenario file, not an agreement",
            "scenario files are run by `agreementdsl test`; `check` takes the agreement beside it",
        )
        return Loaded(str(path), None, None, [diag])
    try:
        source = SourceFile.read(path)
        if name is not None:
            source = SourceFile(name, source.text)
    except UnicodeDecodeError as exc:
        raw = exc.object if isinstance(exc.object, bytes) else b""
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        diag = error(
            "E001",
            Span(str(path), line, col),
            f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be read",
            "save the file as UTF-8 (the pound sign is the usual culprit)",
        )
        return Loaded(str(path), None, None, [diag])
    except FileRefused as exc:
        diag = error(exc.code, Span(str(path), 1, 1), exc.message, exc.hint)
        return Loaded(str(path), None, None, [diag])
    except OSError as exc:
        diag = error("E001", Span(str(path), 1, 1), f"cannot read the file: {exc.strerror or exc}")
        return Loaded(str(path), None, None, [diag])
    return load_source(source)


_AGREEMENT_KEY = re.compile(r"^agreement\s*:", re.MULTILINE)


def looks_like_agreement(path: Path) -> bool:
    """Whether a YAML file has a top-level `agreement:` key (workflows and configs do not)."""
    try:
        text = read_regular(path, AGREEMENT_LIMIT).decode("utf-8-sig", errors="replace")
    except (OSError, FileRefused):
        return True  # let the reader report it
    return bool(_AGREEMENT_KEY.search(text))


def find_agreements(paths: Iterable[str | Path], only_agreements: bool = False) -> list[Path]:
    """Agreement files named directly or found under folders.

    In folders, hidden folders, scenario files and YAML files that are not agreements (no
    top-level `agreement:` key) are passed over; with `only_agreements`, named files too.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.name.endswith(AGREEMENT_SUFFIXES)
                and not p.name.endswith(TEST_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and looks_like_agreement(p)
            )
        elif not only_agreements or (
            not path.name.endswith(TEST_SUFFIXES) and looks_like_agreement(path)
        ):
            found.append(path)
    return found


def check(
    paths: Iterable[str | Path], only_agreements: bool = False, whole: bool = False
) -> list[Loaded]:
    """Check every agreement under `paths`, and that no two of them share an id.

    With `whole`, each is checked as an agreement to be signed whole: the matters its draft
    would leave "[to be agreed: …]" (W410) and a report of its money to the Board only (W801)
    are warned of even where it has no `provisions:` (which `check` otherwise reads as an
    agreement of financial schedules only, and leaves to the draft's drafting notes)."""
    from .checks.provisions import unwarned

    results = [load(p) for p in find_agreements(paths, only_agreements)]
    if whole:
        for result in results:
            if result.agreement is not None and not any(d.is_error for d in result.diagnostics):
                result.diagnostics.extend(unwarned(result.agreement))
    first: dict[str, Loaded] = {}
    for result in results:
        agreement = result.agreement
        if agreement is None or not agreement.id:
            continue
        earlier = first.setdefault(agreement.id, result)
        if earlier is not result:
            span = agreement.key_spans.get("agreement.id", agreement.span)
            result.diagnostics.append(
                warning(
                    "W003",
                    span,
                    f"agreement id `{agreement.id}` is also used by {earlier.path}",
                    "give each agreement its own id: results and reports are keyed by it",
                )
            )
    return results
