"""Read the site's visitor counter from page text by its Vietnamese labels.

A counter is a number beside a counter label in a line of its own: `Đang truy cập: 24`, or a line
that holds only the label followed by a line that holds only the number (table cells, NukeViet's
sibling spans). A label among other words (`BÀN TRÒN TRỰC TUYẾN`, `Hội nghị trực tuyến 2024`) or
a number glued to other text (a `24H` menu item) is not a counter: when in doubt the value is
unknown, since a wrong number in the counter series is worse than a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from coopspider.text import fold_keeping_offsets

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
# Words a counter line may print after its number ("43 người", "1.204 lượt").
_UNITS = ("nguoi", "luot", "khach")
_KIND = {label: "total" for label in _TOTAL_LABELS}
_KIND.update({label: "online" for label in _ONLINE_LABELS})
_KIND.update({label: "other" for label in _OTHER_LABELS})
_LABEL = re.compile(
    r"(?<![a-z])(" + "|".join(sorted(map(re.escape, _KIND), key=len, reverse=True)) + r")(?![a-z])"
)
# Every total and online label holds one of these words (checked below). A line that holds none
# of them can give neither number (the other labels' numbers are never kept), so most lines are
# spared the label pattern, an alternation tried at every position: a substring test is far cheaper.
_COUNTED_WORDS = ("truy", "tong", "online", "tuyen")
if not all(any(w in label for w in _COUNTED_WORDS) for label, k in _KIND.items() if k != "other"):
    raise AssertionError("a total or online label holds none of _COUNTED_WORDS")
# A number: digits with optional thousands separators, not part of a date, a time or a word.
_NUMBER_TEXT = r"(?<![\d/.,])(\d{1,3}(?:[., ]\d{3})+|\d+)(?![\w/:]|[.,]\d)"
_NUMBER = re.compile(_NUMBER_TEXT)
_UNIT = re.compile(r"(?<![a-z])(?:" + "|".join(_UNITS) + r")(?![a-z])")
# What may stand between labels and numbers in a counter line: colons, bars, bullets, brackets.
_FILLER = re.compile(r"[\s:：|·•»>\-–—()\[\]/,.]*")
_NUMBER_ALONE = re.compile(rf"^\s*{_NUMBER_TEXT}\s*(?:{_UNIT.pattern})?\s*$")


@dataclass(frozen=True)
class Counter:
    """Visitor counter values; None where the page shows no number."""

    total: int | None = None
    online: int | None = None


def parse_counter(text: str | Iterable[str]) -> Counter:
    """The total and the online count in a page's lines (a text's lines, or one string a line:
    block by block as a reader sees them; an empty line separates what is not adjacent)."""
    lines = text.splitlines() if isinstance(text, str) else text
    return counter_in_folded_lines([fold_keeping_offsets(line) for line in lines])


def counter_in_folded_lines(folded: list[str]) -> Counter:
    """`parse_counter` on lines already folded (see `coopspider.text.fold_keeping_offsets`)."""
    values: dict[str, int] = {}
    for number, line in enumerate(folded):
        for word in _COUNTED_WORDS:
            if word in line:
                break
        else:
            continue  # neither a total nor an online label
        pairs = _counter_line(line)
        if pairs is None:
            continue
        for kind, value in pairs:
            if value is None and number + 1 < len(folded):
                # A line of only a label: its number is the next line, if that holds nothing else.
                alone = _NUMBER_ALONE.match(folded[number + 1])
                value = _as_int(alone.group(1)) if alone else None
            if value is not None and kind != "other" and kind not in values:
                values[kind] = value
    return Counter(values.get("total"), values.get("online"))


def _counter_line(line: str) -> list[tuple[str, int | None]] | None:
    """The (kind, number) pairs of a line made only of counter labels and their numbers (a label
    without one gets None), or None when the line holds anything else."""
    pairs: list[tuple[str, int | None]] = []
    position = 0
    for match in _LABEL.finditer(line):
        if not _only_filler_or_number(line, position, match.start(), pairs):
            return None
        pairs.append((_KIND[match.group(1)], None))
        position = match.end()
    if not pairs or not _only_filler_or_number(line, position, len(line), pairs):
        return None
    return pairs


def _only_filler_or_number(
    line: str, start: int, end: int, pairs: list[tuple[str, int | None]]
) -> bool:
    """Whether line[start:end] holds nothing but filler, or the last label's number."""
    if _FILLER.fullmatch(line, start, end):
        return True
    return bool(pairs) and _number_then_filler(line, start, end, pairs)


def _number_then_filler(
    line: str, start: int, end: int, pairs: list[tuple[str, int | None]]
) -> bool:
    """Whether line[start:end] is the last label's number (and a unit) between fillers; if so,
    the number is set on that label."""
    number = _NUMBER.search(line, start, end)
    if number is None or not _FILLER.fullmatch(line, start, number.start()):
        return False
    rest = number.end()
    filler = _FILLER.match(line, rest, end)
    assert filler is not None  # it matches the empty string too
    if unit := _UNIT.match(line, filler.end(), end):
        rest = unit.end()
    if not _FILLER.fullmatch(line, rest, end):
        return False
    kind, value = pairs[-1]
    if value is not None:
        return False
    pairs[-1] = (kind, _as_int(number.group(1)))
    return True


def _as_int(digits: str) -> int:
    return int(re.sub(r"\D", "", digits))
