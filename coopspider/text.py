"""Text normalisation shared by extraction and pipelines (pure functions)."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\u00a0\u200b\u2007\u202f\ufeff]+")


def clean_line(text: str) -> str:
    """NFC, every run of spaces (no-break and zero-width included) folded to one space, stripped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def clean_paragraphs(text: str) -> str:
    """NFC text whose paragraphs are cleaned lines separated by exactly one blank line."""
    paragraphs = (clean_line(part) for part in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def fold(text: str) -> str:
    """Accent- and case-insensitive form used to compare labels and titles."""
    decomposed = unicodedata.normalize("NFD", clean_line(text).replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
