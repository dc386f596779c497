"""Read the site's visitor counter from page text by its Vietnamese labels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coopspider.text import fold

# Labels, accent-folded and lower case, longest first so "tong so luot truy cap" wins over
# "luot truy cap". "thong ke truy cap" labels the total only where a number follows it directly
# (the primary site); elsewhere it heads the block and the next label takes over.
_TOTAL_LABELS = (
    "tong so luot truy cap", "tong so luot truy nhap", "tong luot truy cap", "tong luong truy cap",
    "tong so truy cap", "tong truy cap", "so luot truy cap", "thong ke truy cap", "luot truy cap",
    "tong luot xem", "tong cong",
)  # fmt: skip
_ONLINE_LABELS = (
    "so nguoi truc tuyen", "thanh vien dang online", "dang truc tuyen", "dang truy cap",
    "dang online", "khach online", "truc tuyen", "online",
)  # fmt: skip
_OTHER_LABELS = (
    "hom nay", "hom qua", "tuan nay", "tuan truoc", "thang nay", "thang truoc", "thang hien tai",
    "nam nay", "thanh vien", "khach", "luot xem",
)  # fmt: skip
_KIND = {label: "total" for label in _TOTAL_LABELS}
_KIND.update({label: "online" for label in _ONLINE_LABELS})
_KIND.update({label: "other" for label in _OTHER_LABELS})
_LABEL = re.compile(
    r"(?<![a-z])(" + "|".join(sorted(map(re.escape, _KIND), key=len, reverse=True)) + r")(?![a-z])"
)
# A number right after a label: optional colon, then digits with optional thousands separators.
_NUMBER = re.compile(r"\s*[:：]?\s*(\d{1,3}(?:[., ]\d{3})+|\d+)(?![\d/:])")


@dataclass(frozen=True)
class Counter:
    """Visitor counter values; None where the page shows no number."""

    total: int | None = None
    online: int | None = None


def parse_counter(text: str) -> Counter:
    """Find the total and the online count in the text of a page (lines joined by newlines)."""
    folded = fold_keep_lines(text)
    values: dict[str, int] = {}
    for match in _LABEL.finditer(folded):
        kind = _KIND[match.group(1)]
        number = _NUMBER.match(folded, match.end())
        if number and kind != "other" and kind not in values:
            values[kind] = int(re.sub(r"\D", "", number.group(1)))
    return Counter(values.get("total"), values.get("online"))


def fold_keep_lines(text: str) -> str:
    """`fold` line by line, so a label and a number in separate cells stay apart by a newline."""
    return "\n".join(fold(line) for line in text.splitlines())
