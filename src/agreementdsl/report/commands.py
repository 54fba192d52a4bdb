"""The click commands `report`, `whatif` and `serve`: options in, a library call, output out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..options import date_option

if TYPE_CHECKING:
    from .build import Problem


def _print_problems(problems: list[Problem]) -> None:
    from ..redact import redact

    for p in problems:
        where = f"{redact(str(p.where))}: " if p.where else ""
        click.echo(f"{where}error[{p.code}]: {redact(p.message)}", err=True)
        if p.hint:
            click.echo(f"  = hint: {p.hint}", err=True)


@click.command("report")
@click.argument("agreement", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--ledger",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Transactions: CSV or JSON Lines.",
)
@click.option("--disputes", type=click.Path(dir_okay=False, path_type=Path), help="Disputes CSV.")
@click.option(
    "--measures", type=click.Path(dir_okay=False, path_type=Path), help="Outcome measurements CSV."
)
@click.option(
    "--sent",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Reports sent CSV: pool, report, period_end, sent_on (makes reports done or overdue).",
)
@click.option(
    "--year",
    metavar="YYYY/YY",
    help="Financial year (default: the year containing the as-of date).",
)
@click.option(
    "--as-of", "as_of", metavar="DATE", help="Date of the position (default: the last ledger date)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build"),
    show_default=True,
)
def report_command(
    agreement: Path,
    ledger: Path,
    disputes: Path | None,
    measures: Path | None,
    sent: Path | None,
    year: str | None,
    as_of: str | None,
    output: Path,
) -> None:
    """Write the monthly monitoring report: one self-contained HTML page, and the schedule it links to.

    Exit status: 0 written, 1 the report cannot be made (the agreement has errors, a file cannot
    be read), 2 usage error.
    """
    day = date_option(as_of, "--as-of")
    from .build import Inputs, make_pages, write_pages

    inputs = Inputs(agreement, ledger, disputes, measures, sent, year, day)
    pages = make_pages(inputs)
    if pages.problems:
        if pages.usage:
            raise click.UsageError(
                "; ".join(p.message + (f" ({p.hint})" if p.hint else "") for p in pages.problems)
            )
        _print_problems(pages.problems)
        sys.exit(1)
    try:
        written = write_pages(pages, output)
    except OSError as exc:
        from ..cli import _cannot_write

        _cannot_write(exc)
    for path in written:
        click.echo(f"wrote {path}")


@click.command("whatif")
@click.argument("agreement", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pool", required=True, help="The pool's id.")
@click.option(
    "--year", metavar="YYYY/YY", help="Financial year (default: the first with contributions)."
)
@click.option(
    "--outturn",
    metavar="FROM..TO",
    help="Outturns (net expenditure for the year), like £17m..£19m.",
)
@click.option(
    "--overspend",
    metavar="FROM..TO",
    help="Overspends instead, like -£500k..£1m (negative: underspend).",
)
@click.option("--step", metavar="AMOUNT", help="Distance between levels (default: 20 intervals).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
def whatif_command(
    agreement: Path,
    pool: str,
    year: str | None,
    outturn: str | None,
    overspend: str | None,
    step: str | None,
    fmt: str,
) -> None:
    """Who pays what at each outturn level, settled exactly by the pool's risk share.

    Exit status: 0 printed, 1 the agreement has errors or the pool states no contributions for
    the year, 2 usage error.
    """
    from ..api import display_name, load
    from ..compile import compile_agreement
    from ..diagnostics import format_text_report
    from .whatif import (
        WhatIfError,
        find_pool,
        parse_range,
        parse_step,
        what_if,
        write_csv,
        write_text,
    )

    if (outturn is None) == (overspend is None):
        raise click.UsageError("give exactly one of --outturn FROM..TO and --overspend FROM..TO")
    loaded = load(agreement, display_name(agreement))
    if loaded.errors or loaded.agreement is None or loaded.source is None:
        sources = {loaded.path: loaded.source} if loaded.source else {}
        click.echo(format_text_report(loaded.errors, sources), err=True)
        click.echo(f"cannot work out {agreement}: it has {len(loaded.errors)} error(s)", err=True)
        sys.exit(1)
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    try:
        option = "--outturn" if outturn is not None else "--overspend"
        low, high = parse_range(outturn or overspend or "", option)
        size = parse_step(step) if step is not None else None
        label = year or next((y["year"] for y in find_pool(ir, pool)["contributions"]), "")
        result = what_if(ir, pool, label, low, high, size, by_overspend=overspend is not None)
    except WhatIfError as exc:
        if exc.usage:
            raise click.UsageError(
                f"[{exc.code}] {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
            ) from None
        click.echo(
            f"error[{exc.code}]: {exc.message}" + (f"\n  = hint: {exc.hint}" if exc.hint else ""),
            err=True,
        )
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(write_csv(result), nl=False)
    else:
        click.echo(write_text(result), nl=False)


@click.command("serve")
@click.argument(
    "folder", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path(".")
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="0 picks a free port.",
)
def serve_command(folder: Path, port: int) -> None:
    """Serve the reports of a folder of agreements and ledgers on 127.0.0.1, read-only.

    Pages are rendered again when a file changes. Stop with Ctrl-C.
    """
    from .serve import make_server

    try:
        server = make_server(folder, port)
    except OSError as exc:
        click.echo(
            f"error[R012]: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", err=True
        )
        sys.exit(1)
    bound = server.server_address[1]
    click.echo(f"serving {folder} on http://127.0.0.1:{bound}/ (read-only; Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
