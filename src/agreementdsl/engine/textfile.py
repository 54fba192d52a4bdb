"""Whether a ledger, disputes or measures file is text, and in which encoding.

Read before any row: a file that is a workbook, an archive or holds a NUL byte is not text and
stops the run (L018); a file that is not UTF-8 but reads as Windows-1252 (the Latin-1 superset
that old finance systems export, where `£` is byte 0xA3) is read as that with a warning naming
the encoding (L019), so no figure or name comes out as mojibake; anything else that is not UTF-8
is L018 too. UTF-8 with or without a byte order mark is the normal case.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

_BLOCK = 1 << 20
# What a file that is not text usually is, by its first bytes.
_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)
# Bytes that Windows-1252 leaves undefined: a file holding one is not Windows-1252 either.
_UNDEFINED_1252 = tuple(bytes([b]) for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
HINT = "export it from the finance system as CSV, UTF-8"


def signed(head: bytes) -> bool:
    """Whether a file starting with `head` is one of the kinds `sniff` refuses by signature."""
    return any(head.startswith(signature) for signature, _ in _SIGNATURES)


class NotText(Exception):
    """The file is not text (L018); `message` says what it seems to be."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Encoding:
    """How to read the file: the codec, and the L019 warning when it is not UTF-8."""

    codec: str
    warning: str | None = None


UTF8 = Encoding("utf-8-sig")


def sniff(path: Path, kind: str = "ledger") -> Encoding:
    """How the file at `path` is to be read; NotText when it cannot be (OSError passes up)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    bad: tuple[int, int] | None = None  # (line, byte) of the first byte that is not UTF-8
    lines = 1
    with path.open("rb") as f:
        head = f.read(8)
        for signature, what in _SIGNATURES:
            if head.startswith(signature):
                raise NotText(f"the {kind} {path} is {what}, not CSV or JSON Lines text")
        f.seek(0)
        while block := f.read(_BLOCK):
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines + block.count(b"\n", 0, nul)
                raise NotText(f"the {kind} {path} holds a NUL byte on line {line}: it is not text")
            if bad is None:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    bad = (lines + block.count(b"\n", 0, exc.start), block[exc.start])
            if bad is not None and any(b in block for b in _UNDEFINED_1252):
                raise NotText(
                    f"the {kind} {path} is neither UTF-8 nor Windows-1252 text (line {bad[0]} "
                    f"holds byte 0x{bad[1]:02x})"
                )
            lines += block.count(b"\n")
    if bad is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            bad = (lines, 0)
    if bad is None:
        return UTF8
    return Encoding(
        "cp1252",
        f"L019: the {kind} {path.name} is not UTF-8 (line {bad[0]} holds byte 0x{bad[1]:02x}): "
        "it is read as Windows-1252 (Latin-1), where byte 0xA3 is £; save it as UTF-8 to be sure",
    )
