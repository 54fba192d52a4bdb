"""The Jinja2 environment of the renderer: strict (a missing value is an error, never a blank in
a legal document), autoescaping HTML, loading from templates/ (shipped in the package)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2


def templates_dir() -> Path:
    packaged = resources.files("agreementdsl") / "_templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "templates"


def sentence(text: str) -> str:
    """The first letter in capitals, the rest as written (unlike Jinja's `capitalize`)."""
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=4)
def environment(folder: str | None = None) -> jinja2.Environment:
    """The environment over templates/ (or another folder of templates, for tests)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder or str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False
        ),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sentence"] = sentence
    return env
