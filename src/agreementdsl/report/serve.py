"""`agreementdsl serve`: the report pages live over a folder, on 127.0.0.1 only, read-only.

Each agreement `NAME.yaml` in the folder is reported with the files beside it: the ledger
`NAME-*.csv` or `NAME-*.jsonl` (the last by name when there are several), and where present
`NAME-disputes.csv`, `NAME-measures.csv` and `NAME-reports-sent.csv`. A page is rendered when it
is asked for and again only when one of its files changes (size or modification time). A bad
file gives that agreement an error box (code and message); the other agreements keep working.

The server answers GET and HEAD for `/`, `/NAME.html` and `/NAME.schedule.html` and nothing
else: it maps those names to agreements it found, never a request path to a file, so no path
can reach outside the folder. Every other method is refused with 405.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..api import find_agreements
from .build import Inputs, Pages, make_pages
from .page import error_page

HOST = "127.0.0.1"
SIDE_FILES = {"disputes": "disputes", "measures": "measures", "reports-sent": "sent"}
LEDGER_SUFFIXES = (".csv", ".jsonl")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def inputs_for(agreement: Path) -> Inputs:
    """The ledger and side files beside an agreement, found by the naming convention."""
    stem = agreement.stem
    found: dict[str, Path] = {}
    ledgers = []
    for path in sorted(agreement.parent.glob(f"{stem}-*")):
        if not path.is_file() or path.suffix not in LEDGER_SUFFIXES:
            continue
        tail = path.stem[len(stem) + 1 :]
        if tail in SIDE_FILES and path.suffix == ".csv":
            found[SIDE_FILES[tail]] = path
        else:
            ledgers.append(path)
    return Inputs(
        agreement,
        ledgers[-1] if ledgers else None,
        found.get("disputes"),
        found.get("measures"),
        found.get("sent"),
    )


def _stamp(inputs: Inputs) -> tuple[tuple[str, int, int], ...]:
    files = [inputs.agreement, inputs.ledger, inputs.disputes, inputs.measures, inputs.sent]
    out = []
    for path in files:
        if path is None:
            continue
        try:
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


@dataclass
class _Cached:
    stamp: tuple[tuple[str, int, int], ...]
    pages: Pages


class Site:
    """The folder's agreements, each rendered on demand and kept until one of its files changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        self.renders = 0  # how many times a page was rendered (the tests watch the cache by it)

    def agreements(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for path in find_agreements([self.folder]):
            found.setdefault(path.stem, path)
        return found

    def pages(self, stem: str) -> Pages | None:
        agreement = self.agreements().get(stem)
        if agreement is None:
            return None
        inputs = inputs_for(agreement)
        stamp = _stamp(inputs)
        with self._lock:
            cached = self._cache.get(stem)
            if cached is not None and cached.stamp == stamp:
                return cached.pages
            pages = make_pages(inputs)
            self.renders += 1
            self._cache[stem] = _Cached(stamp, pages)
            return pages

    def index(self) -> str:
        items = []
        for stem in self.agreements():
            pages = self.pages(stem)
            assert pages is not None
            name = escape(stem)
            if pages.problems:
                boxes = "".join(
                    f'<div class="errorbox" data-code="{escape(p.code)}"><strong>{escape(p.code)}</strong>: '
                    f"{escape(p.message)}{'<br><code>' + escape(p.where) + '</code>' if p.where else ''}</div>"
                    for p in pages.problems
                )
                items.append(f'<li data-agreement="{name}">{name}{boxes}</li>')
            else:
                items.append(
                    f'<li data-agreement="{name}"><a href="/{name}.html">{name}</a> · '
                    f'<a href="/{name}.schedule.html">schedule</a></li>'
                )
        return (
            '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Agreements</title>'
            "<style>body{font:15px/1.45 system-ui,'DejaVu Sans',sans-serif;margin:32px}"
            ".errorbox{border-left:4px solid #b8403a;background:#fbeceb;padding:6px 10px;margin:6px 0}"
            "</style></head><body><h1>Agreements in "
            + escape(self.folder.name or str(self.folder))
            + "</h1><ul>"
            + ("".join(items) or "<li>No agreements found.</li>")
            + "</ul></body></html>"
        )


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "agreementdsl"
        site: Site

        def _send(self, status: int, body: str, head_only: bool = False) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in SECURITY_HEADERS.items():
                self.send_header(key, value)
            if status == HTTPStatus.METHOD_NOT_ALLOWED:
                self.send_header("Allow", "GET, HEAD")
            self.end_headers()
            if not head_only:
                self.wfile.write(data)

        def _page(self, head_only: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            try:
                status, body = self._route(path)
            except Exception as exc:  # a bug must not take the server down or show a traceback
                print(f"agreementdsl serve: {path}: {exc!r}", file=sys.stderr)
                status, body = (
                    500,
                    error_page("Internal error", [("R009", "the page could not be made", None)]),
                )
            self._send(status, body, head_only)

        def _route(self, path: str) -> tuple[int, str]:
            if path in ("/", "/index.html"):
                return 200, site.index()
            name = path[1:] if path.startswith("/") else path
            for suffix, part in ((".schedule.html", "schedule"), (".html", "report")):
                if not name.endswith(suffix) or "/" in name:
                    continue
                pages = site.pages(name[: -len(suffix)])
                if pages is None:
                    break
                if pages.problems:
                    problems = [(p.code, p.message, p.where) for p in pages.problems]
                    return 422, error_page(pages.stem, problems)
                text = pages.report if part == "report" else pages.schedule
                assert text is not None
                return 200, text
            return 404, error_page("Not found", [("R010", f"no page {path}", None)])

        def do_GET(self) -> None:
            self._page(False)

        def do_HEAD(self) -> None:
            self._page(True)

        def _refuse(self) -> None:
            self._send(
                405,
                error_page(
                    "Read-only",
                    [("R011", f"{self.command} is not allowed: the server is read-only", None)],
                ),
            )

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

        def log_message(self, format: str, *args: object) -> None:
            if not getattr(self.server, "quiet", False):
                super().log_message(format, *args)

    Handler.site = site
    return Handler


def make_server(folder: Path, port: int = 8000, quiet: bool = False) -> ThreadingHTTPServer:
    """A server over `folder` on 127.0.0.1 (port 0 picks a free one); call serve_forever()."""
    server = ThreadingHTTPServer((HOST, port), _handler(Site(folder)))
    server.daemon_threads = True
    server.quiet = quiet  # type: ignore[attr-defined]
    return server
