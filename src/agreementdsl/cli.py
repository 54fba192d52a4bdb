"""The command line: a thin shell over the library. No domain logic lives here."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click

from .options import date_option


class _Commands(click.Group):
    """The commands, each of which, when its reader stops reading (`run … | head`), ends quietly
    with the shell's status for a closed pipe, 141 (128 + SIGPIPE), as `yes | head` does:
    Click's own handling exits 1, which means errors, or rejected rows under `--strict`. A
    command that already fails keeps its own status. Standard output or error closed before
    the command starts (`>&-`, as cron may leave it) reads as /dev/null: the command runs and
    what it prints is dropped."""

    def invoke(self, ctx: click.Context) -> Any:
        for name in ("stdout", "stderr"):
            if getattr(sys, name) is None:
                setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        try:
            result = super().invoke(ctx)
        except BrokenPipeError:
            _pipe_closed()
        except BaseException as exc:
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                if isinstance(exc, SystemExit) and exc.code in (0, None):
                    _pipe_closed()  # a success whose output was not all read
                _drop_stdout()  # a failure in hand, not the closed pipe, says how it ended
            raise
        try:
            sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        except BrokenPipeError:
            _pipe_closed()
        return result


def _drop_stdout() -> None:
    """What is still buffered for a closed pipe must not be written again on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _pipe_closed() -> NoReturn:
    _drop_stdout()
    sys.exit(141)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
# The version is read from the installed package's metadata, and only when asked for: `--help`
# and `--version` import none of the library (docs/performance.md).
@click.version_option(package_name="agreementdsl", prog_name="agreementdsl")
def main() -> None:
    """Compile, check, run and render Section 75 partnership agreements."""
    signal.signal(signal.SIGTERM, _terminated(os.getpid()))


def _terminated(pid: int) -> Any:
    """A SIGTERM handler that stops this process as Ctrl-C does, so what a run made is removed
    on the way out (DuckDB's working folder in the temporary directory, with its pipes and
    database file): "Aborted!", exit 1. A forked worker (the reference's second process) ends
    at once, as if no handler were set."""

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt

    return handler


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--only-agreements",
    is_flag=True,
    help="Pass over named YAML files that are not agreements (for pre-commit hooks).",
)
@click.option(
    "--whole",
    is_flag=True,
    help="Check each as an agreement to be signed whole: also warn of what its draft leaves "
    "to be agreed (W410, W801) where it has no `provisions:`.",
)
def check_command(
    paths: tuple[Path, ...], fmt: str, strict: bool, only_agreements: bool, whole: bool
) -> None:
    """Check agreement files (or folders of them) for errors and warnings.

    Exit status: 0 clean (warnings allowed), 1 errors found (or warnings with --strict),
    2 usage error.
    """
    from .api import check, find_agreements
    from .diagnostics import format_json_report, format_text_report

    if not find_agreements(paths, only_agreements):
        if only_agreements:
            sys.exit(0)
        raise click.UsageError("no agreement files (*.yaml) found in " + ", ".join(map(str, paths)))
    results = check(paths, only_agreements, whole)
    diags = [d for r in results for d in r.diagnostics]
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    if fmt == "json":
        click.echo(format_json_report(diags))
    elif fmt in ("github", "sarif"):
        from .formats import github_diagnostics, sarif_diagnostics

        text = github_diagnostics(diags) if fmt == "github" else sarif_diagnostics(diags)
        if text:
            click.echo(text)
    else:
        sources = {r.path: r.source for r in results if r.source is not None}
        if diags:
            click.echo(_colour(format_text_report(diags, sources)))
            click.echo()
        files = len(results)
        summary = f"checked {files} file{'s' * (files != 1)}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        click.echo(
            click.style(summary, fg="red" if errors else ("yellow" if warnings else "green"))
        )
    sys.exit(1 if errors or (strict and warnings) else 0)


def _colour(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        if ": error[" in line:
            line = click.style(line, fg="red", bold=True)
        elif ": warning[" in line:
            line = click.style(line, fg="yellow", bold=True)
        lines.append(line)
    return "\n".join(lines)


@main.command("compile")
@click.argument("agreement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the IR here instead of standard output.",
)
@click.option("--sql", is_flag=True, help="Print the rules as SQL instead of the IR.")
@click.option(
    "--dialect",
    type=click.Choice(["duckdb", "postgres", "spark"]),
    default="duckdb",
    show_default=True,
    help="The SQL dialect for --sql.",
)
def compile_command(agreement: Path, output: Path | None, sql: bool, dialect: str) -> None:
    """Compile an agreement to its versioned JSON IR (the rules the engine and renderer read).

    With --sql, print the ledger checks, aggregation and spending rules as the SQL the columnar
    executor runs (one tree, generated for --dialect).

    Exit status: 0 compiled, 1 the agreement has errors, 2 usage error.
    """
    import json

    from .api import load
    from .compile import compile_agreement
    from .diagnostics import format_text_report

    given = click.get_current_context().get_parameter_source("dialect")
    if not sql and given is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--dialect is the SQL's: give --sql with it (or leave it out)")
    loaded = load(agreement)
    if loaded.errors or loaded.agreement is None or loaded.source is None:
        sources = {loaded.path: loaded.source} if loaded.source else {}
        click.echo(format_text_report(loaded.errors, sources), err=True)
        click.echo(f"cannot compile {agreement}: {len(loaded.errors)} error(s)", err=True)
        sys.exit(1)
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    if sql:
        from .engine.sql.generate import render as render_sql

        # a rule no spend can reach is printed all the same: say so where it is read
        spending = [
            f"{d.code} ({d.span.file}:{d.span.line}): {d.message}"
            for d in sorted(loaded.diagnostics, key=lambda d: d.sort_key())
            if d.code.startswith("W70")
        ]
        text = render_sql(ir, dialect, spending).rstrip("\n")
    else:
        text = json.dumps(ir, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        from .outputs import write_file

        try:
            write_file(output, text + "\n")
        except OSError as exc:
            _cannot_write(exc)


@main.command("run")
@click.argument("agreement", type=click.Path(path_type=Path))
@click.option(
    "--ledger",
    "ledger_arg",
    required=True,
    metavar="PATH|URL",
    help="The pool's transactions: CSV, JSON Lines, Parquet or an .xlsx workbook, or a "
    "PostgreSQL table or query: 'postgresql://user@host:port/db?table=NAME' (docs/engines.md).",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "reference", "duckdb", "postgres", "spark"]),
    default="auto",
    show_default=True,
    help="The executor: the reference row loop, the rules as SQL on DuckDB, PostgreSQL or "
    "Spark, or auto (DuckDB for large ledgers, Parquet and workbooks; PostgreSQL for a "
    "postgresql:// ledger or with --database).",
)
@click.option("--sheet", metavar="NAME", help="The workbook's sheet (default: the first).")
@click.option(
    "--database",
    metavar="URL",
    help="Load the ledger file into this PostgreSQL database (postgresql://user@host:port/db) "
    "and run the rules there (--engine postgres).",
)
@click.option(
    "--disputes",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Disputes CSV: id, pool, raised_on, resolved_on, subject.",
)
@click.option(
    "--measures",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Outcome measurements CSV: outcome, period, value.",
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
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--explain", is_flag=True, help="Show the working of every figure, clause by clause.")
@click.option(
    "--explain-row",
    "explain_row",
    type=int,
    metavar="N",
    help="Show the working of ledger row N (its physical line): how it was read, the rule "
    "that applies, who may approve, the decision; from the reference executor.",
)
@click.option(
    "--approvals",
    type=click.Choice(["all", "breaches"]),
    help="Which spends to list: every one, or those breaching delegated authority "
    "(default: breaches for text, all for JSON).",
)
@click.option("--strict", is_flag=True, help="Exit 1 when any row is rejected.")
@click.option(
    "--years",
    metavar="YYYY/YY..YYYY/YY",
    help="Several years in turn, each year's carried-forward balance brought into the next.",
)
@click.option(
    "--exit-on",
    "exit_on",
    metavar="DATE",
    help="Give the exit settlement at this date instead: the balance and who bears it.",
)
@click.option("--partner", metavar="ID", help="With --exit-on: the partner that leaves.")
@click.option(
    "--notice-given",
    "notice_given",
    metavar="DATE",
    help="With --exit-on: the day notice was given (an error if too late for the exit date).",
)
def run_command(
    agreement: Path,
    ledger_arg: str,
    disputes: Path | None,
    measures: Path | None,
    year: str | None,
    as_of: str | None,
    fmt: str,
    explain: bool,
    strict: bool,
    years: str | None,
    exit_on: str | None,
    partner: str | None,
    notice_given: str | None,
    engine: str,
    sheet: str | None,
    database: str | None,
    approvals: str | None,
    explain_row: int | None,
) -> None:
    """Run an agreement over a ledger: position, settlement, approvals, reports, disputes.

    AGREEMENT may be a folder: every agreement in it (its .yaml files but *.test.yaml) runs
    over the one ledger, read once, each pool's rows going to the agreement that has the pool.

    Exit status: 0 results printed (rejected rows included), 1 the run cannot give results (the
    agreement has errors, a required column is missing, a file cannot be read) or --strict met a
    rejected row, 2 usage error.
    """
    from .api import load
    from .compile import compile_agreement
    from .diagnostics import format_text_report
    from .engine.output import write_json, write_text
    from .engine.run import run_ledger
    from .engine.sql.choose import is_database

    day = date_option(as_of, "--as-of")
    url = ledger_arg if is_database(ledger_arg) else None
    ledger = Path(ledger_arg)
    if (url or database) and (exit_on or years):
        # both read a ledger file themselves, a year at a time
        asked = "--exit-on" if exit_on else "--years"
        raise click.UsageError(
            f"{asked} reads a ledger file: "
            + (
                "a ledger in PostgreSQL runs with plain `run`"
                if url
                else "drop --database (a ledger loaded into PostgreSQL runs with plain `run`)"
            )
        )
    if url and explain_row is not None:
        # the working of a row comes from reading it again from its file (engine/rowexplain.py)
        raise click.UsageError(
            "--explain-row reads the row again from the ledger file, and a ledger in "
            "PostgreSQL has none: give the file with --ledger FILE --database URL, or explain "
            "the row of an export"
        )
    if exit_on is None and (partner or notice_given):
        raise click.UsageError("--partner and --notice-given go with --exit-on")
    if exit_on is not None and (year or as_of or disputes or measures):
        raise click.UsageError(
            "--exit-on gives the position at the exit date: drop --year, --as-of, --disputes and --measures"
        )
    if years is not None and (year or exit_on or disputes or measures):
        raise click.UsageError(
            "--years runs each year in turn: drop --year, --exit-on, --disputes and --measures"
        )
    if approvals is not None and (years is not None or exit_on is not None):
        raise click.UsageError("--approvals goes with a run of one year: drop --years or --exit-on")
    if explain_row is not None and (years is not None or exit_on is not None):
        raise click.UsageError(
            "--explain-row goes with a run of one year: drop --years or --exit-on"
        )
    if agreement.is_dir():
        from .lists import listed as words_list

        given = [
            name
            for name, value in (
                ("--years", years),
                ("--exit-on", exit_on),
                ("--disputes", disputes),
                ("--measures", measures),
                ("--explain-row", explain_row),
            )
            if value is not None
        ]
        if given:
            raise click.UsageError(
                f"a folder of agreements runs one year of each: drop {words_list(given)} (each "
                "goes with a run of one agreement)"
            )
        _run_many(
            agreement, url or ledger, year, day, fmt, explain, strict, engine, sheet, approvals,
            database,
        )  # fmt: skip
        return
    loaded = load(agreement)
    if loaded.errors or loaded.agreement is None or loaded.source is None:
        sources = {loaded.path: loaded.source} if loaded.source else {}
        click.echo(format_text_report(loaded.errors, sources), err=True)
        click.echo(f"cannot run {agreement}: it has {len(loaded.errors)} error(s)", err=True)
        sys.exit(1)
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    if exit_on is not None:
        _run_exit(ir, ledger, exit_on, partner, notice_given, fmt, explain, strict, engine, sheet)
        return
    if years is not None:
        _run_years(ir, ledger, years, day, fmt, explain, strict, engine, sheet)
        return
    progress = _Progress(ledger, fmt)
    with _run_errors(progress):
        result = run_ledger(
            ir,
            url or ledger,
            disputes=disputes,
            measures=measures,
            year=year,
            as_of=day,
            explain=explain,
            progress=progress,
            engine=engine,
            sheet=sheet,
            database=database,
        )
    working = None
    if explain_row is not None:
        from .engine.rowexplain import explain_row as explain_one

        with _run_errors():
            working = explain_one(ir, ledger, explain_row, sheet, result.year, result.as_of)
    try:
        out = sys.stdout
        listed = approvals or ("all" if fmt == "json" else "breaches")
        if fmt == "json":
            write_json(result, out, listed, working.to_json() if working else None)
        else:
            write_text(result, out, click.style if out.isatty() else None, listed)
            if working is not None:
                from .engine.rowexplain import write_row_text

                write_row_text(working, out)
    except Exception as exc:
        if _interrupted(exc):
            raise click.Abort() from None  # Ctrl-C while DuckDB reads the rows listed
        raise
    finally:
        result.close()
    _strict_exit(strict, len(result.rejected))


def _strict_exit(strict: bool, rejected: int, what: str = "rejected") -> NoReturn:
    """Exit 1 with `--strict` when a ledger row was rejected, saying so on standard error (a CI
    log showed the results and a failure, and no reason); else 0."""
    if strict and rejected:
        rows = f"{rejected:,} ledger row{'s' * (rejected != 1)}"
        click.echo(f"exit 1 (--strict): {rows} {what}", err=True)
        sys.exit(1)
    sys.exit(0)


def _run_many(
    folder: Path,
    ledger: Path | str,
    year: str | None,
    as_of: date | None,
    fmt: str,
    explain: bool,
    strict: bool,
    engine: str,
    sheet: str | None,
    approvals: str | None,
    database: str | None = None,
) -> None:
    """`run FOLDER --ledger L`: every agreement in the folder over one ledger, read once (a
    file, a `postgresql://` ledger, or a file loaded into `--database`)."""
    from .api import load
    from .compile import compile_agreement
    from .diagnostics import format_text_report
    from .engine.multi import (
        agreement_files,
        agreement_name,
        run_many,
        write_many_json,
        write_many_text,
    )

    irs: dict[str, Any] = {}
    broken = 0
    for path in agreement_files(folder):
        loaded = load(path)
        if loaded.errors or loaded.agreement is None or loaded.source is None:
            sources = {loaded.path: loaded.source} if loaded.source else {}
            click.echo(format_text_report(loaded.errors, sources), err=True)
            click.echo(f"cannot run {path}: it has {len(loaded.errors)} error(s)", err=True)
            broken += 1
            continue
        irs[agreement_name(folder, path)] = compile_agreement(loaded.agreement, loaded.source.text)
    if broken:
        sys.exit(1)
    progress = _Progress(Path(ledger), fmt)
    with _run_errors(progress):
        many = run_many(
            irs, ledger, year=year, as_of=as_of, explain=explain, progress=progress,
            engine=engine, sheet=sheet, database=database,
        )  # fmt: skip
    try:
        listed = approvals or ("all" if fmt == "json" else "breaches")
        if fmt == "json":
            write_many_json(many, sys.stdout, listed)
        else:
            style = click.style if sys.stdout.isatty() else None
            write_many_text(many, sys.stdout, style, listed)
    finally:
        many.close()
    _strict_exit(strict, len(many.totals.rejected), "rejected or in no agreement's pool")


@contextmanager
def _run_errors(progress: _Progress | None = None) -> Iterator[None]:
    """A run that cannot give results: usage errors exit 2, unusable input exits 1."""
    from .engine.ledger import LedgerError
    from .engine.run import RunError
    from .terminal import visible

    try:
        yield
    except RunError as exc:
        message, hint = visible(exc.message), visible(exc.hint or "")
        if exc.usage:
            raise click.UsageError(message + (f" ({hint})" if hint else "")) from None
        code = f"[{exc.code}]" if exc.code else ""
        click.echo(f"error{code}: {message}" + (f"\n  = hint: {hint}" if hint else ""), err=True)
        sys.exit(1)
    except LedgerError as exc:
        message, hint = visible(exc.message), visible(exc.hint or "")
        click.echo(
            f"error[{exc.code}]: {message}" + (f"\n  = hint: {hint}" if hint else ""), err=True
        )
        sys.exit(1)
    except Exception as exc:
        if _interrupted(exc):
            raise click.Abort() from None  # Ctrl-C inside a DuckDB statement
        raise
    finally:
        if progress is not None:
            progress.done()


def _interrupted(exc: Exception) -> bool:
    """Whether DuckDB stopped a statement for Ctrl-C: it raises its own error, not
    KeyboardInterrupt (named here, so that a run without DuckDB never imports it)."""
    return type(exc).__name__ == "InterruptException" or (
        type(exc) is RuntimeError and str(exc) == "Query interrupted"
    )


def _run_exit(
    ir: dict[str, Any],
    ledger: Path,
    exit_on: str,
    partner: str | None,
    notice_given: str | None,
    fmt: str,
    explain: bool,
    strict: bool,
    engine: str = "auto",
    sheet: str | None = None,
) -> None:
    from .engine.exit import exit_json, exit_settlement, write_exit_text

    day = date_option(exit_on, "--exit-on")
    given = date_option(notice_given, "--notice-given")
    assert day is not None
    with _run_errors():
        result = exit_settlement(
            ir,
            ledger,
            day,
            partner=partner,
            notice_given=given,
            explain=explain,
            engine=engine,
            sheet=sheet,
        )
    try:
        if fmt == "json":
            click.echo(json.dumps(exit_json(result), indent=2, ensure_ascii=False))
        else:
            write_exit_text(result, sys.stdout)
    finally:
        result.close()
    _strict_exit(strict, len(result.run.rejected))


def _run_years(
    ir: dict[str, Any],
    ledger: Path,
    years: str,
    as_of: date | None,
    fmt: str,
    explain: bool,
    strict: bool,
    engine: str = "auto",
    sheet: str | None = None,
) -> None:
    from .engine.years import run_years, write_years_json, write_years_text

    progress = _Progress(ledger, fmt)
    with _run_errors(progress):
        result = run_years(
            ir,
            ledger,
            years,
            as_of=as_of,
            explain=explain,
            progress=progress,
            engine=engine,
            sheet=sheet,
        )
    try:
        if fmt == "json":
            write_years_json(result, sys.stdout)
        else:
            write_years_text(result, sys.stdout, click.style if sys.stdout.isatty() else None)
    finally:
        result.close()
    _strict_exit(strict, len(result.runs[0].rejected))


class _Progress:
    """A progress bar on standard error (tqdm) for a run that takes more than a couple of
    seconds: only when standard error is a terminal, and never with --format json.

    Executors report rows read (`update`) or, when they cannot count rows as they go (DuckDB),
    the fraction of the ledger done (`fraction`); one that counts the rows first says so
    (`total_rows`: the total is otherwise guessed from the file's size).
    AGREEMENTDSL_PROGRESS_DELAY sets the seconds before the bar appears (default 2)."""

    def __init__(self, ledger: Path, fmt: str = "text") -> None:
        self.bar: Any = None
        self.total = 0
        if fmt != "text" or not sys.stderr.isatty():
            return
        import shutil

        from tqdm import tqdm

        try:
            delay = float(os.environ.get("AGREEMENTDSL_PROGRESS_DELAY", "2"))
        except ValueError:
            delay = 2.0
        # nan, inf or a delay past any run (a thread's wait cannot take 1e10 s): within reason
        delay = min(max(delay, 0.0), 86_400.0) if delay == delay else 2.0
        self.total = _estimated_rows(ledger)
        self.bar = tqdm(
            total=self.total or None,
            desc="reading ledger",
            unit=" rows",
            unit_scale=True,
            delay=delay,
            file=sys.stderr,
            leave=False,
            # a terminal that reports no size (a bare pty) gets 80x24, not a hidden bar
            ncols=min(100, shutil.get_terminal_size().columns),
            nrows=shutil.get_terminal_size().lines,
        )
        # Redrawn every half second once the delay has passed, so that a run whose executor
        # reports nothing for a while (the parallel row loop, a long SQL statement) shows it.
        import threading

        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, args=(delay,), daemon=True)
        self._ticker.start()

    def _tick(self, delay: float) -> None:
        if self._stop.wait(delay):
            return
        while not self._stop.is_set():
            self._draw()
            self._stop.wait(0.5)

    def _draw(self) -> None:
        """Redraw the bar once its delay has passed (never before: a short run shows nothing),
        and note that it was drawn: tqdm's `close` clears only a bar it saw drawn by `update`
        (a bar drawn by `refresh` alone was left on the terminal)."""
        bar = self.bar
        if bar is None or bar._time() - bar.start_t < bar.delay:
            return
        bar.refresh()
        bar.last_print_t = bar._time()

    def update(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(rows)

    def total_rows(self, rows: int) -> None:
        """The ledger's rows, counted (the DuckDB executor's scan of a CSV), for the guess."""
        if self.bar is not None and rows > 0:
            self.total = self.bar.total = rows
            self._draw()

    def fraction(self, done: float) -> None:
        if self.bar is not None and self.total:
            self.bar.update(max(0, int(done * self.total) - self.bar.n))

    def stage(self, name: str, rows: int) -> None:
        """A second count after the first, with its own name and rows (DuckDB's check of the rows
        its SQL declined, by the reference reader: a ledger of `£1,250.00` amounts sends it every
        row, and the bar sat at 100% meanwhile). Not tqdm's `reset`, which redraws at once,
        before the bar's delay, and restarts the delay."""
        if self.bar is not None and rows > 0:
            self.bar.set_description(name, refresh=False)
            self.total = self.bar.total = rows
            self.bar.n = self.bar.last_print_n = 0
            self._draw()

    def done(self) -> None:
        if self.bar is not None:
            self._stop.set()
            self._ticker.join()
            self.bar.close()
            self.bar = None


def _estimated_rows(ledger: Path) -> int:
    """Rows in a ledger file (lines after the header), guessed from its size and 64 KiB read at
    four places in it (the head alone misjudged the bench's 10M-row ledger, whose later lines
    are longer, by 4%), counted when that is the whole file; 0: not known."""
    sample = 1 << 16
    try:
        size = ledger.stat().st_size
        with ledger.open("rb") as f:
            blocks = []
            for k in range(4):
                f.seek(size * k // 4 if size > 4 * sample else 0)
                blocks.append(f.read(sample))
                if size <= 4 * sample:
                    break
    except OSError:
        return 0
    read = sum(len(b) for b in blocks)
    lines = sum(b.count(b"\n") for b in blocks)
    if read == size:  # the whole file: its lines after the header, exactly
        return lines - 1 + (not blocks[0].endswith(b"\n"))
    return max(1, size * lines // read - 1) if lines and read else 0


@main.command("render")
@click.argument("agreement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "docx", "all"]),
    default="all",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build"),
    show_default=True,
    help="Folder to write into.",
)
@click.option(
    "--annotate", is_flag=True, help="Mark each generated clause with the source line it came from."
)
@click.option(
    "--git",
    "from_git",
    is_flag=True,
    help="Take the version history from the git log of the agreement file (instead of `versions:`).",
)
def render_command(
    agreement: Path, fmt: str, output: Path, annotate: bool, from_git: bool = False
) -> None:
    """Render draft legal schedules from an agreement: Markdown, HTML and Word.

    The same agreement always gives byte-identical files. Exit status: 0 written, 1 the
    agreement has errors, 2 usage error.
    """
    from .api import display_name, load
    from .compile import compile_agreement
    from .diagnostics import format_text_report
    from .render import FORMATS, render
    from .render.whole import drafting_notes

    loaded = load(agreement, display_name(agreement))
    if loaded.errors or loaded.agreement is None or loaded.source is None:
        sources = {loaded.path: loaded.source} if loaded.source else {}
        click.echo(format_text_report(loaded.errors, sources), err=True)
        click.echo(f"cannot render {agreement}: it has {len(loaded.errors)} error(s)", err=True)
        sys.exit(1)
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    notes = drafting_notes(loaded.diagnostics, loaded.agreement)
    if from_git:
        from .vcs import VersionError, history_from_git

        try:
            ir["agreement"]["versions"] = history_from_git(agreement)
        except VersionError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2 if exc.usage else 1)

    formats = list(FORMATS) if fmt == "all" else [fmt]
    try:
        written = render(ir, formats, output, agreement.stem, annotate, notes)
    except OSError as exc:
        _cannot_write(exc)
    for path in written:
        click.echo(f"wrote {path}")


def _cannot_write(exc: Exception) -> NoReturn:
    """One line (and a hint) for a file that cannot or must not be written; exit 1."""
    from .files import FileRefused
    from .outputs import OutputError
    from .terminal import visible

    if isinstance(exc, OutputError):
        click.echo(visible(str(exc)), err=True)
    elif isinstance(exc, FileRefused):
        click.echo(visible(f"error[{exc.code}]: {exc.path}: {exc.message}"), err=True)
        if exc.hint:
            click.echo(f"  = hint: {visible(exc.hint)}", err=True)
    elif isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(visible(f"error: cannot write{where}: {exc.strerror or exc}"), err=True)
    sys.exit(1)


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "github", "sarif"]),
    default="text",
    show_default=True,
)
@click.option(
    "--update", is_flag=True, help="Rewrite each scenario's expectations from the actual results."
)
@click.option("--coverage", is_flag=True, help="List the clauses no scenario exercised.")
@click.option(
    "--require-coverage",
    is_flag=True,
    help="Exit 1 when a clause is not exercised (lists them, as --coverage does).",
)
@click.option(
    "--allow-none", is_flag=True, help="Exit 0 when there are no scenario files (for hooks)."
)
def test_command(
    paths: tuple[Path, ...],
    fmt: str,
    update: bool,
    coverage: bool,
    require_coverage: bool,
    allow_none: bool,
) -> None:
    """Run the scenarios of every *.test.yaml under PATHS (default: agreements/).

    Exit status: 0 every scenario passed, 1 any failed (or a scenario file is malformed),
    2 usage error.
    """
    from .scenarios import find_test_files, run_paths
    from .scenarios.compare import uncovered

    targets = list(paths) or [Path("agreements")]
    if not all(p.exists() for p in targets) or not find_test_files(targets):
        if allow_none and all(p.exists() for p in targets):
            sys.exit(0)
        raise click.UsageError(
            "no scenario files (*.test.yaml) found in " + ", ".join(map(str, targets))
        )
    suite = run_paths(targets)
    if update:
        from .scenarios.update import update_file

        for test_file in suite.files:
            try:
                done = update_file(test_file, [r for r in suite.results if r.file is test_file])
            except OSError as exc:
                _cannot_write(exc)
            if done.changed:
                click.echo(f"updated {test_file.path}", err=True)
                for line in done.rewritten:
                    click.echo(f"  rewrote {line}", err=True)
            for line in done.not_written:
                click.echo(f"could not update {line}", err=True)
        suite = run_paths(targets)
    missing = None
    if coverage or require_coverage:  # a requirement of coverage is never dropped silently
        covered = {c for r in suite.results for c in r.covered}
        missing = [m for ir in suite.irs.values() for m in uncovered(ir, covered)]
    _print_suite(suite, fmt, missing)
    sys.exit(0 if suite.ok and not (require_coverage and missing) else 1)


def _print_suite(suite: Any, fmt: str, missing: list[tuple[str, str]] | None) -> None:
    from . import formats
    from .scenarios.report import format_suite

    if fmt == "text":
        click.echo(format_suite(suite, missing, click.style), nl=False)
        return
    writers = {
        "json": lambda: formats.json_scenarios(suite, missing),
        "junit": lambda: formats.junit(suite),
        "github": lambda: formats.github_scenarios(suite, missing),
        "sarif": lambda: formats.sarif_scenarios(suite, missing),
    }
    text = writers[fmt]()
    if text:
        click.echo(text)


@main.command("diff")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--git",
    "rev",
    metavar="REV",
    help="Compare the working tree with this git revision (PATHS: agreements; default: every agreement changed since REV).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True
)
@click.option(
    "--redline",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the new schedules with the changes marked (HTML and Word) into this folder.",
)
@click.option(
    "--impact",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A ledger or a scenario file: say who pays how much more or less after the change.",
)
def diff_command(
    paths: tuple[Path, ...], rev: str | None, fmt: str, redline: Path | None, impact: Path | None
) -> None:
    """Show what changed in meaning between two versions of an agreement, clause by clause.

    Give OLD and NEW files, or --git REV to compare the working tree with a revision. Each
    change is classed material (money, authority, deadlines, parties) or editorial.
    Exit status: 0 compared, 1 a version has errors or cannot be read, 2 usage error.
    """
    from .vcs import VersionError, pairs_from_files, pairs_from_git

    try:
        pairs = pairs_from_git(rev, list(paths)) if rev else pairs_from_files(list(paths))
    except VersionError as exc:
        if exc.usage:
            raise click.UsageError(exc.message) from None
        click.echo(f"error{f'[{exc.code}]' if exc.code else ''}: {exc.message}", err=True)
        sys.exit(1)
    from .review import compare_versions

    outputs = []
    for pair in pairs:
        try:
            output, written = compare_versions(pair, fmt, redline, impact)
        except VersionError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)
        except OSError as exc:
            _cannot_write(exc)
        for path in written:
            click.echo(f"wrote {path}", err=True)
        outputs.append(output)
    if fmt == "json":
        import json

        click.echo(
            json.dumps(outputs[0] if len(outputs) == 1 else outputs, indent=2, ensure_ascii=False)
        )
    else:
        click.echo("\n\n".join(str(o) for o in outputs) if outputs else "no agreements changed")


@main.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Change nothing; show what would change and exit 1 if anything would.",
)
def fmt_command(paths: tuple[Path, ...], check_only: bool) -> None:
    """Lay out the rules inside agreements' clause blocks canonically (YAML comments are kept).

    Exit status: 0 formatted (or, with --check, already canonical), 1 a file would change
    (--check) or has errors, 2 usage error.
    """
    import difflib

    from .api import find_agreements, load
    from .diagnostics import format_text_report
    from .fmt import format_agreement

    files = find_agreements(paths, only_agreements=True)
    if not files:
        raise click.UsageError("no agreement files (*.yaml) found in " + ", ".join(map(str, paths)))
    failed = changed = False
    for path in files:
        loaded = load(path)
        if loaded.errors or loaded.source is None or loaded.agreement is None:
            sources = {loaded.path: loaded.source} if loaded.source else {}
            click.echo(format_text_report(loaded.errors, sources), err=True)
            click.echo(f"cannot format {path}: it has {len(loaded.errors)} error(s)", err=True)
            failed = True
            continue
        formatted, refused = format_agreement(loaded)
        if formatted is None:
            click.echo(format_text_report(refused, {loaded.path: loaded.source}), err=True)
            click.echo(f"cannot format {path}: fmt would not keep it exactly", err=True)
            failed = True
            continue
        if formatted == loaded.source.text:
            continue
        changed = True
        if check_only:
            diff = difflib.unified_diff(
                loaded.source.text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                fromfile=str(path),
                tofile=f"{path} (formatted)",
            )
            from .terminal import visible

            # the agreement's lines, each shown with its control characters escaped
            click.echo("".join(visible(line.rstrip("\n")) + "\n" for line in diff), nl=False)
        else:
            from .outputs import write_file

            bom = "\ufeff" if path.read_bytes().startswith(b"\xef\xbb\xbf") else ""
            try:
                write_file(path, (bom + formatted).encode("utf-8"))
            except OSError as exc:
                _cannot_write(exc)
            click.echo(f"formatted {path}", err=True)
    if not changed and not failed:
        click.echo(f"{len(files)} file{'s' * (len(files) != 1)} already formatted", err=True)
    sys.exit(1 if failed or (check_only and changed) else 0)


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema (draft 2020-12) of the agreement YAML, for editors and CI."""
    from importlib import resources

    click.echo(
        (resources.files("agreementdsl") / "schema" / "agreement.schema.json").read_text("utf-8"),
        nl=False,
    )


def _add_report_commands() -> None:
    """`report`, `whatif` and `serve` live with the report package (src/agreementdsl/report/)."""
    from .report.commands import report_command, serve_command, whatif_command

    for command in (report_command, whatif_command, serve_command):
        main.add_command(command)


_add_report_commands()


if __name__ == "__main__":
    main()
