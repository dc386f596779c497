"""Text normalisation shared by extraction and pipelines (pure functions)."""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 control characters and DEL, but tab, line feed and carriage return: in crawled text
# an ESC or a BEL is never content, and printed on a terminal it can retitle the window or clear
# the screen.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without C0/C1 control characters other than tab, line feed and carriage return."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text


# Code points XML 1.0 forbids even as character references, besides the C0 controls: the
# surrogates (lone ones can come from a mis-decoded page) and the two noncharacters U+FFFE/FFFF.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def strip_non_xml(text: str) -> str:
    """`text` with no character an XML 1.0 document may not hold (nor a C1 control)."""
    text = strip_controls(text)
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text


def clean_line(text: str) -> str:
    """NFC, every run of spaces (no-break and zero-width included) and control characters folded
    to one space, stripped."""
    text = unicodedata.normalize("NFC", text)
    line = " ".join(text.split())
    # Splitting removed every space; what else the rules below replace is not printable. Most
    # lines have none of it: one check instead of a regex search and two scans.
    if line.isprintable():
        return line
    # A control character stands where a page (often mis-decoded: windows-1252 punctuation read
    # as C1) had something between words: a space keeps the words apart.
    if _CONTROLS.search(text):
        text = _CONTROLS.sub(" ", text)
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


def fold_keeping_offsets(text: str) -> str:
    """Accent- and case-insensitive form used to compare labels and titles: one character for
    one (a translation table), so a position in it is the same position in the cleaned line
    (unlike storage.fulltext.fold_for_search, which drops every combining mark)."""
    return fold_clean_line(clean_line(text))


def fold_clean_line(line: str) -> str:
    """`fold_keeping_offsets` of a line that `clean_line` gave already (cleaning it again would
    change nothing: extraction folds every line of a page it has just cleaned)."""
    if line.isascii():
        return line.lower()  # the table leaves ASCII as it is
    return line.translate(_ACCENTS).lower()
