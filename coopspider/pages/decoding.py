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
