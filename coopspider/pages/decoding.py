"""Decode a downloaded page, including legacy Vietnamese pages that declare the wrong charset."""

from __future__ import annotations

from scrapy.http import TextResponse

# Vietnam's legacy code page: old ASP.NET portals serve it, sometimes labelled as UTF-8.
LEGACY_ENCODING = "cp1258"


def page_text(response: TextResponse) -> str:
    """The page's text, by its declared charset unless that declaration is wrong (invalid bytes
    for it) and the bytes read as windows-1258."""
    text = response.text
    if "\ufffd" not in text:
        return text
    try:
        response.body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return response.body.decode(LEGACY_ENCODING)
        except UnicodeDecodeError:
            return text
    return text


# Files that sites serve behind page URLs: PDF, PNG, GIF, JPEG, ZIP/DOCX/XLSX, old Office.
_FILE_SIGNATURES = (
    b"%PDF-",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0",
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def looks_binary(body: bytes) -> bool:
    """Whether `body` is a file rather than a page: a known file signature, or NUL bytes near
    the start (which no HTML page has, UTF-16 pages with their BOM aside)."""
    head = body[:1024]
    if head.startswith(_FILE_SIGNATURES):
        return True
    return b"\x00" in head and not head.startswith(_UTF16_BOMS)
