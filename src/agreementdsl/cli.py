"""The command line: a thin shell over the library. No domain logic lives here."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="agreementdsl")
def main() -> None:
    """Compile, check, run and render Section 75 partnership agreements."""


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check_command(paths: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check agreement files (or folders of them) for errors and warnings.

    Exit status: 0 clean (warnings allowed), 1 errors found (or warnings with --strict),
    2 usage error.
    """
    from .api import check, find_agreements
    from .diagnostics import format_json_report, format_text_report

    if not find_agreements(paths):
        raise click.UsageError("no agreement files (*.yaml) found in " + ", ".join(map(str, paths)))
    results = check(paths)
    diags = [d for r in results for d in r.diagnostics]
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    if fmt == "json":
        click.echo(format_json_report(diags))
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
def compile_command(agreement: Path, output: Path | None) -> None:
    """Compile an agreement to its versioned JSON IR (the rules the engine and renderer read).

    Exit status: 0 compiled, 1 the agreement has errors, 2 usage error.
    """
    import json

    from .api import load
    from .compile import compile_agreement
    from .diagnostics import format_text_report

    loaded = load(agreement)
    if loaded.errors or loaded.agreement is None or loaded.source is None:
        sources = {loaded.path: loaded.source} if loaded.source else {}
        click.echo(format_text_report(loaded.errors, sources), err=True)
        click.echo(f"cannot compile {agreement}: {len(loaded.errors)} error(s)", err=True)
        sys.exit(1)
    text = json.dumps(
        compile_agreement(loaded.agreement, loaded.source.text), indent=2, ensure_ascii=False
    )
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema (draft 2020-12) of the agreement YAML, for editors and CI."""
    from importlib import resources

    click.echo(
        (resources.files("agreementdsl") / "schema" / "agreement.schema.json").read_text("utf-8"),
        nl=False,
    )


if __name__ == "__main__":
    main()
