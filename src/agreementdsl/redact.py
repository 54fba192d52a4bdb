"""Passwords kept out of messages: a database URL's `user:PASSWORD@`, and `password=` in a URL's
query or in libpq's `key=value` form, however the text around them was mistyped."""

from __future__ import annotations

import re
from urllib.parse import unquote

# scheme://user:PASSWORD@ up to the text's last `@`: a password holding an unencoded `@`, `/`,
# `?` or `#` is masked whole (libpq or urlsplit would read part of it as the host or the query).
# (A path made of a URL has lost one of its slashes: `postgresql:/user:…`.)
_USERINFO = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9+.-]*:/{1,2}[^:/@?#\s]*:)(.*)@", re.DOTALL)
# the same within a message, where a space ends it
_USERINFO_IN = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*:/{1,2}[^:/@?#\s]*:)(\S*)@")
# password= at the start, after a space, `?` or `&`; its value ends at `&`, a space, or `: `
_KEYWORD = re.compile(
    r"((?:^|(?<=[\s?&]))(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|.*?)(?=&|\s|:\s|:$|$)",
    flags=re.IGNORECASE,
)


def url_password(text: str) -> str | None:
    """The password written in a URL's `user:PASSWORD@`, as written (None: there is none)."""
    found = _USERINFO.match(text)
    return found[2] if found else None


def redact(text: str) -> str:
    """`text` with every password in it written `***`."""
    found = _USERINFO.match(text)
    if found:
        text = found[1] + "***" + text[found.end() - 1 :]
    text = _USERINFO_IN.sub(lambda m: m[1] + "***@", text)
    return _KEYWORD.sub(r"\1***", text)


def scrub(message: str, conninfo: str) -> str:
    """A driver's `message` about `conninfo` with the passwords `conninfo` holds, as written
    and decoded, written `***` wherever the driver quoted them bare."""
    secrets = [url_password(conninfo) or ""]
    secrets += [m[2].strip("'") for m in _KEYWORD.finditer(conninfo)]
    for secret in sorted({s for s in secrets if s} | {unquote(s) for s in secrets if s}, key=len):
        message = message.replace(secret, "***") if len(secret) > 1 else message
    return redact(message)
