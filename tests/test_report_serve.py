"""`agreementdsl serve`: read-only pages on 127.0.0.1, refreshed when a file changes, a bad
agreement shown as an error box while the others keep working."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agreementdsl.report.serve import Site, inputs_for, make_server
from test_render import BROWSER_FLAGS, CHROMIUM

ROOT = Path(__file__).resolve().parents[1]
AGREEMENTS = ROOT / "agreements"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Herefordshire with its ledger and side files, and a broken copy beside it."""
    site = tmp_path / "site"
    site.mkdir()
    for name in (
        "herefordshire.yaml",
        "herefordshire-2005-06.csv",
        "herefordshire-disputes.csv",
        "herefordshire-measures.csv",
    ):
        shutil.copy(AGREEMENTS / name, site / name)
    broken = (AGREEMENTS / "herefordshire.yaml").read_text("utf-8").replace("to host", "to nobody")
    (site / "broken.yaml").write_text(broken, "utf-8")
    shutil.copy(AGREEMENTS / "herefordshire-2005-06.csv", site / "broken-2005-06.csv")
    return site


@pytest.fixture
def server(folder: Path) -> Iterator[tuple[str, int, Site]]:
    httpd = make_server(folder, 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = httpd.server_address[:2]
        handler = httpd.RequestHandlerClass
        site = handler.site  # type: ignore[attr-defined]
        yield str(host), int(port), site
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


def _ask(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        conn.close()


def test_the_server_listens_on_loopback_only(server: tuple[str, int, Site]) -> None:
    host, _, _ = server
    assert host == "127.0.0.1"


def test_the_index_lists_each_agreement_and_boxes_the_broken_one(
    server: tuple[str, int, Site],
) -> None:
    _, port, _ = server
    status, headers, body = _ask(port, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<a href="/herefordshire.html">herefordshire</a>' in body
    assert '<div class="errorbox" data-code="E301"><strong>E301</strong>: ' in body
    assert 'data-code="R006"' in body


def test_a_good_agreement_is_served_while_a_bad_one_shows_its_error(
    server: tuple[str, int, Site],
) -> None:
    _, port, _ = server
    status, headers, body = _ask(port, "GET", "/herefordshire.html")
    assert status == 200
    assert (
        "Mental Health Services Pooled Fund" in body
        and 'data-figure="pools.mental-health.forecast"' in body
    )
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    status, _, body = _ask(port, "GET", "/broken.html")
    assert status == 422
    assert "<strong>E301</strong>: unknown partner" in body and "broken.yaml:" in body
    assert "Traceback" not in body
    status, _, body = _ask(port, "GET", "/herefordshire.schedule.html")
    assert status == 200 and 'id="part-mental-health-risk"' in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_the_server_refuses_writes(
    server: tuple[str, int, Site], folder: Path, method: str
) -> None:
    _, port, _ = server
    before = sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())
    status, headers, _ = _ask(port, method, "/herefordshire.html", b"x=1")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    assert sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()) == before


def test_head_gives_the_headers_without_the_body(server: tuple[str, int, Site]) -> None:
    _, port, _ = server
    status, headers, body = _ask(port, "HEAD", "/herefordshire.html")
    assert status == 200 and int(headers["Content-Length"]) > 1000 and body == ""


@pytest.mark.parametrize(
    "path",
    [
        "/../herefordshire.yaml",
        "/herefordshire.yaml",
        "/herefordshire-2005-06.csv",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "//etc/passwd",
        "/site/../herefordshire.html/../../x.html",
        "/nothing.html",
    ],
)
def test_no_path_reaches_a_file(server: tuple[str, int, Site], path: str) -> None:
    _, port, _ = server
    status, _, body = _ask(port, "GET", path)
    assert status == 404
    assert "root:" not in body and "agreement:" not in body


def test_a_changed_file_is_rendered_again_and_an_unchanged_one_is_not(
    server: tuple[str, int, Site], folder: Path
) -> None:
    _, port, site = server
    _ask(port, "GET", "/herefordshire.html")
    renders = site.renders
    _ask(port, "GET", "/herefordshire.html")
    assert site.renders == renders  # nothing changed: served from the cache
    agreement = folder / "herefordshire.yaml"
    agreement.write_text(
        agreement.read_text("utf-8").replace(
            "Mental Health Services Pooled Fund", "Mental Health Fund Renamed"
        ),
        "utf-8",
    )
    later = time.time() + 5
    os.utime(agreement, (later, later))
    status, _, body = _ask(port, "GET", "/herefordshire.html")
    assert status == 200 and "Mental Health Fund Renamed" in body
    assert site.renders == renders + 1
    # mending the broken agreement brings its page up without a restart
    broken = folder / "broken.yaml"
    broken.write_text(broken.read_text("utf-8").replace("to nobody", "to host"), "utf-8")
    os.utime(broken, (later, later))
    status, _, _ = _ask(port, "GET", "/broken.html")
    assert status == 200


def test_the_ledger_and_side_files_are_found_by_name(folder: Path) -> None:
    found = inputs_for(folder / "herefordshire.yaml")
    assert found.ledger == folder / "herefordshire-2005-06.csv"
    assert found.disputes == folder / "herefordshire-disputes.csv"
    assert found.measures == folder / "herefordshire-measures.csv"
    assert found.sent is None


def test_an_agreement_without_a_ledger_says_so(tmp_path: Path) -> None:
    shutil.copy(AGREEMENTS / "herefordshire.yaml", tmp_path / "alone.yaml")
    pages = Site(tmp_path).pages("alone")
    assert pages is not None and [p.code for p in pages.problems] == ["R007"]


def test_a_served_page_loads_in_headless_chromium_without_console_errors(
    server: tuple[str, int, Site], tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    _, port, _ = server
    for path in ("/herefordshire.html", "/"):
        done = subprocess.run(
            [
                CHROMIUM,
                *BROWSER_FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--dump-dom",
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        console = [x for x in done.stderr.splitlines() if "CONSOLE" in x or "Uncaught" in x]
        assert console == [], console
        assert "herefordshire" in done.stdout


def test_the_serve_command_starts_and_stops(folder: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agreementdsl.cli", "serve", str(folder), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"serving {folder} on http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        status, _, _ = _ask(port, "GET", "/")
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_fault_making_a_page_is_an_error_box_and_the_server_goes_on(
    server: tuple[str, int, Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port, site = server

    def broken(stem: str) -> None:
        raise RuntimeError("a fault in agreementdsl")

    monkeypatch.setattr(site, "pages", broken)
    status, _, body = _ask(port, "GET", "/herefordshire.html")
    assert status == 500 and 'data-code="R009"' in body and "Traceback" not in body
    monkeypatch.undo()
    assert _ask(port, "GET", "/herefordshire.html")[0] == 200


def test_refusals_carry_their_codes(server: tuple[str, int, Site]) -> None:
    _, port, _ = server
    assert 'data-code="R010"' in _ask(port, "GET", "/nothing.html")[2]
    assert 'data-code="R011"' in _ask(port, "POST", "/", b"")[2]


def test_serve_says_when_the_port_is_taken(server: tuple[str, int, Site], folder: Path) -> None:
    from click.testing import CliRunner

    from agreementdsl.cli import main

    _, port, _ = server
    result = CliRunner().invoke(main, ["serve", str(folder), "--port", str(port)])
    assert result.exit_code == 1
    assert f"error[R012]: cannot listen on 127.0.0.1:{port}" in result.output


def test_a_ledger_without_a_required_column_is_boxed_and_the_others_work(
    server: tuple[str, int, Site], folder: Path
) -> None:
    _, port, _ = server
    shutil.copy(AGREEMENTS / "herefordshire.yaml", folder / "noamount.yaml")
    (folder / "noamount-2005-06.csv").write_text("date,pool,kind\n2005-05-01,mental-health,spend\n")
    status, _, body = _ask(port, "GET", "/noamount.html")
    assert status == 422 and 'data-code="L101"' in body and "amount" in body
    assert _ask(port, "GET", "/herefordshire.html")[0] == 200
    index = _ask(port, "GET", "/")[2]
    assert 'data-code="L101"' in index and '<a href="/herefordshire.html">' in index
