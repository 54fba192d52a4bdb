"""A database password never reaches a message, however its URL was mistyped (a regional
analyst's trial found it printed by several)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main
from agreementdsl.redact import redact, url_password

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = str(ROOT / "agreements" / "herefordshire.yaml")
LEDGER = str(ROOT / "agreements" / "herefordshire-2005-06.csv")
SECRET = "s3cretPw"


def said(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # port 1: nothing listens there, so the connection is refused at once
        (f"postgresql://finance:{SECRET}@127.0.0.1:1/ledgers?table=ledger", "cannot connect to"),
        (f"postgresql://finance:ab/{SECRET}@127.0.0.1:1/ledgers?table=ledger", "`/` as %2F"),
        (f"postgresql://finance:{SECRET} x@127.0.0.1:1/ledgers?table=ledger", "` ` as %20"),
        (f"postgresql://finance:{SECRET}%zz@127.0.0.1:1/ledgers?table=ledger", "`%` as %25"),
        (f"postgresql://finance:p@{SECRET}@127.0.0.1:1/ledgers?table=ledger", "`@` as %40"),
        (f"postgresql://finance@127.0.0.1:1/ledgers?table=ledger&password={SECRET}", "connect"),
        (f"host=127.0.0.1 port=1 user=finance password={SECRET} table=ledger", "L103"),
        # found by review: `?` and `#` ended the password's search, and libpq quotes it bare
        (f"postgresql://finance:ab?{SECRET}@127.0.0.1:1/ledgers?table=ledger", "`?` as %3F"),
        (f"postgresql://finance:a@b?c#{SECRET}@127.0.0.1:1/ledgers?table=ledger", "`#` as %23"),
        (f"postgresql://finance:{SECRET}%00@127.0.0.1:1/ledgers?table=ledger", "`%` as %25"),
        (f"postgresql://finance@127.0.0.1:1/ledgers?table=ledger&password={SECRET}%00", "valid"),
    ],
)
def test_a_ledger_url_never_shows_its_password(url: str, shown: str) -> None:
    code, out = said("run", AGREEMENT, "--ledger", url)
    assert code != 0 and shown in out, out
    assert SECRET not in out and "***" in out, out


def test_database_and_report_and_explain_row_never_show_it() -> None:
    keyword = f"host=127.0.0.1 port=1 dbname=ledgers user=finance password={SECRET}"
    code, out = said("run", AGREEMENT, "--ledger", LEDGER, "--database", keyword)
    assert code != 0 and "is not a PostgreSQL URL" in out and SECRET not in out, out
    url = f"postgresql://finance:{SECRET}@127.0.0.1:1/ledgers?table=ledger"
    code, out = said("run", AGREEMENT, "--ledger", url, "--explain-row", "42")
    assert code == 2 and "--explain-row reads the row again from the ledger file" in out, out
    assert SECRET not in out
    code, out = said("report", AGREEMENT, "--ledger", url, "--output", "/nonexistent/x")
    assert code != 0 and SECRET not in out, out


def test_redact_and_the_password_it_finds() -> None:
    assert url_password("postgresql://u:p@ss@h/db?table=t") == "p@ss"
    assert url_password("postgresql://u@h/db") is None
    assert redact("cannot read the ledger postgresql:/u:pw@h/db?table=t: no such file") == (
        "cannot read the ledger postgresql:/u:***@h/db?table=t: no such file"
    )
    assert redact("host=h password='a b' user=u") == "host=h password=*** user=u"
    assert redact("postgresql://127.0.0.1:5432/db") == "postgresql://127.0.0.1:5432/db"


def test_a_path_is_not_taken_for_a_password() -> None:
    assert redact("cannot read the ledger data/password=x.csv") == (
        "cannot read the ledger data/password=x.csv"
    )
    assert redact("x?table=t&password=*** connection failed") == (
        "x?table=t&password=*** connection failed"
    )
