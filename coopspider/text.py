"""Text normalisation shared by extraction and pipelines (pure functions)."""

from __future__ import annotations

import re
import unicodedata


def clean_line(text: str) -> str:
    """NFC, every run of spaces (no-break and zero-width included) folded to one space, stripped."""
    text = unicodedata.normalize("NFC", text)
    # `str.split()` splits on the characters regex `\s` matches, no-break spaces included, but
    # not on the zero-width space or the byte order mark. Several times faster than `re.sub`.
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return " ".join(text.split())


def clean_paragraphs(text: str) -> str:
    """NFC text whose paragraphs are cleaned lines separated by exactly one blank line."""
    paragraphs = (clean_line(part) for part in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def _accent_table() -> str:
    """Each precomposed Latin letter to its base letter (ế -> e, Đ -> D): one-to-one, so offsets
    in a folded string are offsets in the original.

    A string indexed by code point up to U+1FFF, each other character standing for itself:
    `str.translate` reads a string faster than a dict and leaves the characters past its end
    as they are (their IndexError is a LookupError)."""
    table = [chr(code) for code in range(0x2000)]
    table[ord("đ")], table[ord("Đ")] = "d", "D"
    for code in range(0x00C0, 0x2000):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    return "".join(table)


_ACCENTS = _accent_table()


def fold(text: str) -> str:
    """Accent- and case-insensitive form used to compare labels and titles."""
    return clean_line(text).translate(_ACCENTS).lower()
