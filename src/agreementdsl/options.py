"""Option values shared by the click commands (cli.py and report/commands.py)."""

from __future__ import annotations

from datetime import date

import click


def date_option(text: str | None, option: str) -> date | None:
    """An option's YYYY-MM-DD date, or a usage error naming the option (exit 2)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"'{text}' is not a date (YYYY-MM-DD)", param_hint=option
        ) from None
