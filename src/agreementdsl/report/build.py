"""From files to a report page: load, compile, run, read the reports sent, render.

Problems are returned as data (code, message, where), never raised, so that the CLI can print
them and the server can show them in an error box while the other agreements keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..api import display_name, load
from ..compile import compile_agreement
from ..engine.ledger import LedgerError, Rejected
from ..engine.run import RunError, run_ledger
from ..render import build_document
from ..render.writers import render_html
from .page import build_report
from .sent import read_sent


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    where: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Inputs:
    agreement: Path
    ledger: Path | None
    disputes: Path | None = None
    measures: Path | None = None
    sent: Path | None = None
    year: str | None = None
    as_of: date | None = None


@dataclass
class Pages:
    """The report and the schedule it links to, or the problems that stopped them."""

    stem: str
    report: str | None = None
    schedule: str | None = None
    problems: list[Problem] = field(default_factory=list)
    usage: bool = False  # a problem with how the command was asked, not with the files


def make_pages(inputs: Inputs) -> Pages:
    """The report page and the rendered schedule for one agreement and its ledger."""
    stem = inputs.agreement.stem
    loaded = load(inputs.agreement, display_name(inputs.agreement))
    if loaded.errors or loaded.agreement is None or loaded.source is None:
        problems = [
            Problem(d.code, d.message, f"{d.span.file}:{d.span.line}:{d.span.col}", d.hint)
            for d in loaded.errors
        ]
        problems.append(
            Problem(
                "R006",
                f"{inputs.agreement} has {len(loaded.errors)} error(s), so no report can be made",
                str(inputs.agreement),
                f"run `agreementdsl check {inputs.agreement}`",
            )
        )
        return Pages(stem, problems=problems)
    if inputs.ledger is None:
        return Pages(
            stem,
            problems=[
                Problem(
                    "R007",
                    f"no ledger for {inputs.agreement.name}",
                    str(inputs.agreement),
                    f"put the ledger beside it as {stem}-YEAR.csv (or .jsonl)",
                )
            ],
        )
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    try:
        result = run_ledger(
            ir,
            inputs.ledger,
            disputes=inputs.disputes,
            measures=inputs.measures,
            year=inputs.year,
            as_of=inputs.as_of,
            each_year=False,  # `report` has no --years
        )
    except RunError as exc:
        problem = Problem(exc.code or "R008", exc.message, str(inputs.ledger), exc.hint)
        return Pages(stem, problems=[problem], usage=exc.usage)
    except LedgerError as exc:
        return Pages(stem, problems=[Problem(exc.code, exc.message, str(inputs.ledger), exc.hint)])
    try:
        sent = None
        extra: list[Rejected] = []
        if inputs.sent is not None:
            names = {p["id"]: {d["report"] for d in p["reporting"]} for p in ir["pools"]}
            sent, extra = read_sent(inputs.sent, names)
        report = build_report(
            result,
            sent=sent,
            extra_rejected=extra,
            schedule_href=f"{stem}.schedule.html",
            source_name=display_name(inputs.ledger),
        )
    except LedgerError as exc:
        return Pages(stem, problems=[Problem(exc.code, exc.message, str(inputs.sent), exc.hint)])
    finally:
        result.close()
    schedule = render_html(build_document(ir), annotate=True)
    return Pages(stem, report, schedule)


def write_pages(pages: Pages, output: Path) -> list[Path]:
    """Write `STEM.html` (the report) and `STEM.schedule.html` (the clauses it links to)."""
    from ..outputs import make_folder, write_file

    assert pages.report is not None and pages.schedule is not None
    make_folder(output)  # P001 when it cannot be made
    written = []
    for name, text in (
        (f"{pages.stem}.html", pages.report),
        (f"{pages.stem}.schedule.html", pages.schedule),
    ):
        path = output / name
        write_file(path, text, newline="\n")  # atomic; a link or a folder there is refused
        written.append(path)
    return written
