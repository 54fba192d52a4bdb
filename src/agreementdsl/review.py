"""Reviewing a change to an agreement: the semantic diff of two versions, with the money effect
and redlines when asked. The library behind `agreementdsl diff`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .diff import diff_irs, format_json, format_markdown, format_text
from .impact import format_effects
from .impact import impact as money_impact
from .vcs import Pair, compile_version


def compare_versions(
    pair: Pair, fmt: str, redline: Path | None = None, impact: Path | None = None
) -> tuple[Any, list[Path]]:
    """(the report in `fmt`: text, md or json, the redline files written).

    Raises VersionError when a version has errors.
    """
    old_ir = compile_version(pair.old_name, pair.old_text) if pair.old_text is not None else None
    new_ir = compile_version(pair.new_name, pair.new_text) if pair.new_text is not None else None
    if old_ir is None or new_ir is None:
        what = "added" if old_ir is None else "removed"
        name = pair.new_name if old_ir is None else pair.old_name
        message = f"{name}: the agreement is {what} (a material change: a whole agreement)"
        if fmt == "md":
            from .render.markup import code_span

            message = f"### {code_span(name)}\n\n**material**: the agreement is {what}."
        note = {
            "old": pair.old_name,
            "new": pair.new_name,
            "material": 1,
            "changes": [],
            "note": message,
        }
        return (note if fmt == "json" else message), []
    changes = diff_irs(old_ir, new_ir)
    written: list[Path] = []
    if redline is not None:
        from .render import build_document
        from .render.redline import redline as mark
        from .render.writers import write_all

        stem = Path(pair.new_name).name.rsplit(".", 1)[0] + ".redline"
        marked = mark(build_document(old_ir), build_document(new_ir))
        written = write_all(marked, ["html", "docx"], redline, stem)
    effects = money_impact(old_ir, new_ir, impact) if impact is not None else None
    if fmt == "json":
        out = json.loads(format_json(changes, pair.old_name, pair.new_name))
        if effects is not None:
            out["impact"] = json.loads(format_effects(effects, "json"))["effects"]
        return out, written
    text = (format_markdown if fmt == "md" else format_text)(changes, pair.old_name, pair.new_name)
    if effects is not None:
        text += "\n\n" + format_effects(effects, fmt)
    return text, written
