"""Vietnamese date normalisation: date lines as printed on provincial portals -> aware datetimes."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

__all__ = ["VIETNAM_TZ", "parse_date", "to_iso"]

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_VIETNAM_OFFSET = timedelta(hours=7)
_UTC7 = timezone(_VIETNAM_OFFSET)

_ORDERS = ("DMY", "MDY")
_MIN_YEAR, _MAX_YEAR = 1900, 2100
# Longer lines are prose, not date lines: dateparser is slow and inventive on them.
_FALLBACK_MAX_LEN = 80

# No-break and other odd spaces become plain spaces, dashes become "-", zero-width marks go.
_TRANSLATE = str.maketrans(
    {
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u3000": " ",
        "\t": " ",
        "\r": " ",
        "\n": " ",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
    }
)

_MONTH_WORDS = {
    "mười một": 11,
    "mười hai": 12,
    "m. một": 11,
    "m. hai": 12,
    "m.một": 11,
    "m.hai": 12,
    "giêng": 1,
    "một": 1,
    "hai": 2,
    "ba": 3,
    "tư": 4,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
    "chạp": 12,
}
_MONTH_ALT = "|".join(re.escape(w) + r"\b" for w in sorted(_MONTH_WORDS, key=len, reverse=True))
_MONTH = rf"(?:\d{{1,2}}(?!\d)|{_MONTH_ALT})"
_MONTH_LABEL = r"(?:tháng|thg\.?)"

# The leading lookahead lets the regex engine skip positions that cannot start a date.
_DATE_RE = re.compile(
    r"(?=[\dt])(?:"
    # ISO 8601, as in meta tags and JSON-LD
    r"(?P<iso>(?<!\d)(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    r"(?:[t ](?P<ih>\d{2}):(?P<imi>\d{2})(?::(?P<is>\d{2})(?:[.,](?P<ifr>\d+))?)?"
    r" ?(?P<itz>z|[+-]\d{2}(?::?\d{2})?)?)?(?!\d))"
    # year first with slashes, dots or unpadded dashes; not inside URL paths
    r"|(?P<ymd>(?<![\d/.])(?P<yy>\d{4})(?P<ys>[/.-])(?P<ym>\d{1,2})(?P=ys)(?P<yd>\d{1,2})"
    r"(?!\d|/\w|[.-]\d))"
    # dd/mm/yyyy and friends; not inside phone numbers or document numbers (12/05/2023/QĐ)
    r"|(?P<num>(?<![\d/])(?<!\d[./])(?P<a>\d{1,2}) ?(?P<sep>[/.-]) ?(?P<b>\d{1,2}) ?(?P=sep) ?"
    r"(?P<y>\d{4})(?!\d|/\w|[.-]\d))"
    # 7 tháng 9 năm 2021, 15 Tháng Mười Hai 2023, 3 tháng 5, 2021, 15 thg 12, 2023
    rf"|(?P<words>(?<!\d)(?P<wd>\d{{1,2}}) ?{_MONTH_LABEL} ?(?P<wm>{_MONTH})"
    r"(?: ?, ?| )(?:năm ?)?(?P<wy>\d{4})(?!\d))"
    # Tháng Mười Hai 15, 2023 (WordPress "F j, Y")
    rf"|(?P<mwords>{_MONTH_LABEL} ?(?P<mm>{_MONTH}) (?P<md>\d{{1,2}}), ?(?P<my>\d{{4}})(?!\d)))"
)

_TIME = (
    r"(?<![\d:.])(?P<h>\d{1,2})"
    r"(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?|(?: ?(?:h|giờ) ?(?:(?P<mi2>\d{1,2})(?![\d/.-])"
    r"(?: ?phút)?)?))(?![\d:])"
    r"(?: ?(?P<ampm>a\.m\.|p\.m\.|am|pm|sa|ch|sáng|chiều|trưa|tối|đêm)(?!\w))?"
    r"(?: ?[(\[]? ?(?P<tz>gmt|utc)"
    r"(?: ?(?P<tzs>[+-]) ?(?P<tzh>\d{1,2})(?::?(?P<tzm>\d{2}))?)? ?[)\]]?)?"
)
_SEP = r"[\s,|()\[\]-]*"
_DECOR = (
    r"(?:(?:gmt|utc) ?[+-] ?\d{1,2}(?::?\d{2})?|thứ ?(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ ?nhật|cn"
    r"|t[2-7]|ngày|vào|lúc|sáng|chiều|trưa|tối|đêm)(?!\w)"
)
_GAP = rf"{_SEP}(?:{_DECOR}{_SEP})*"
_TIME_AFTER_RE = re.compile(_GAP + _TIME)
_CLOCK_RE = re.compile(_TIME)
_TIME_BEFORE_RE = re.compile(r"(?=\d)" + _TIME + _GAP + r"\Z")

_UNITS = {
    "giây": timedelta(seconds=1),
    "phút": timedelta(minutes=1),
    "giờ": timedelta(hours=1),
    "tiếng": timedelta(hours=1),
    "ngày": timedelta(days=1),
    "tuần": timedelta(weeks=1),
}
_UNIT = "|".join(_UNITS)
_RELATIVE_RE = re.compile(
    rf"(?:cách đây )?(?P<parts>(?:(?<!\d)\d{{1,4}} ?(?:{_UNIT}),? ?)+)(?P<ago>trước)?"
)
_REL_PART_RE = re.compile(rf"(\d{{1,4}}) ?({_UNIT})")

_YEAR_RE = re.compile(r"(?=\d)(?<!\d)(?:19|20)\d\d(?!\d)")
# A day number before a month word, or an English month name.
_FALLBACK_HINT_RE = re.compile(
    rf"(?<!\d)\d{{1,2}}[ ,.]*{_MONTH_LABEL} ?{_MONTH}"
    r"|\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
)
_NUMBER_RE = re.compile(r"\d+")
_DIGIT_RE = re.compile(r"\d")

_fallback_parsers: dict[str, DateDataParser] = {}


def parse_date(text: str, *, now: datetime | None = None, order: str = "DMY") -> datetime | None:
    """Return the first complete date in ``text`` as an aware datetime in Vietnam time, or None.

    None also when that date is impossible (31/02) or lacks a day, month or year.
    Date-only text gives local midnight; relative forms ("2 giờ trước") count back from ``now``
    (the current time when None; a naive ``now`` is taken as Vietnam time). ``order`` is "DMY"
    or "MDY" and applies to all-numeric dates.
    """
    if order not in _ORDERS:
        raise ValueError(f"order must be one of {_ORDERS}, not {order!r}")
    if not text or _DIGIT_RE.search(text) is None:
        return None
    low = " ".join(unicodedata.normalize("NFC", text).translate(_TRANSLATE).split()).lower()
    match = _DATE_RE.search(low)
    if match is not None:
        return _from_match(low, match, order)
    relative = _relative(low, now)
    if relative is not None:
        return relative
    return _fallback(low, order)


def prints_time(raw: str | None) -> bool:
    """Whether a printed date text holds a time of day (`08:30`, `8h30`, `8 giờ`)."""
    return bool(raw) and _CLOCK_RE.search(str(raw).lower()) is not None


def to_iso(dt: datetime) -> str:
    """Format ``dt`` as ISO 8601 at UTC+7 to the second; a naive ``dt`` is Vietnam time."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=VIETNAM_TZ)
    # A fixed +07:00, not the zone: tzdata gives Vietnam other offsets before 1975.
    return dt.astimezone(_UTC7).isoformat(timespec="seconds")


def _from_match(low: str, m: re.Match[str], order: str) -> datetime | None:
    kind = m.lastgroup
    if kind == "iso":
        return _from_iso(m)
    if kind == "ymd":
        year, month, day = int(m["yy"]), int(m["ym"]), int(m["yd"])
    elif kind == "num":
        first, second = int(m["a"]), int(m["b"])
        day, month = (first, second) if order == "DMY" else (second, first)
        year = int(m["y"])
    elif kind == "words":
        day, month, year = int(m["wd"]), _month_number(m["wm"]), int(m["wy"])
    else:
        day, month, year = int(m["md"]), _month_number(m["mm"]), int(m["my"])
    date = _make(year, month, day)
    if date is None:
        return None
    clock = _TIME_AFTER_RE.match(low, m.end())
    if clock is None:
        clock = _TIME_BEFORE_RE.search(low, 0, m.start())
    if clock is None:
        return date
    return _with_time(date, clock)


def _from_iso(m: re.Match[str]) -> datetime | None:
    date = _make(int(m["iy"]), int(m["im"]), int(m["id"]))
    if date is None or m["ih"] is None:
        return date
    hour, minute, second = int(m["ih"]), int(m["imi"]), int(m["is"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    micro = int((m["ifr"] or "0")[:6].ljust(6, "0"))
    tz_text = m["itz"]
    if tz_text is None:
        tz: tzinfo | None = VIETNAM_TZ
    elif tz_text == "z":
        tz = UTC
    else:
        digits = tz_text[1:].replace(":", "")
        tz = _fixed_tz(tz_text[0], int(digits[:2]), int(digits[2:] or 0))
        if tz is None:
            return None
    local = datetime(date.year, date.month, date.day, hour, minute, second, micro, tzinfo=tz)
    return local.astimezone(VIETNAM_TZ)


def _month_number(token: str) -> int:
    return int(token) if token.isdigit() else _MONTH_WORDS[token]


def _make(year: int, month: int, day: int) -> datetime | None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    try:
        return datetime(year, month, day, tzinfo=VIETNAM_TZ)
    except ValueError:
        return None


def _with_time(date: datetime, m: re.Match[str]) -> datetime:
    hour = int(m["h"])
    minute = int(m["mi"] or m["mi2"] or 0)
    second = int(m["s"] or 0)
    hour = _apply_meridiem(hour, m["ampm"])
    if hour > 23 or minute > 59 or second > 59:
        return date
    result = date.replace(hour=hour, minute=minute, second=second)
    if m["tz"] is None:
        return result
    tz = _fixed_tz(m["tzs"] or "+", int(m["tzh"] or 0), int(m["tzm"] or 0))
    if tz is None:
        return result
    return result.replace(tzinfo=tz).astimezone(VIETNAM_TZ)


def _fixed_tz(sign: str, hours: int, minutes: int) -> tzinfo | None:
    # +07:00 maps to VIETNAM_TZ itself, which makes the final conversion free.
    offset = timedelta(hours=hours, minutes=minutes)
    if offset >= timedelta(hours=24):
        return None
    if sign == "+" and offset == _VIETNAM_OFFSET:
        return VIETNAM_TZ
    return timezone(-offset if sign == "-" else offset)


def _apply_meridiem(hour: int, marker: str | None) -> int:
    # A 24-hour time with a redundant PM ("19:30 PM") keeps its hour; "12:05 SA" is past midnight.
    if marker is None or hour > 12:
        return hour
    if marker in ("am", "a.m.", "sa", "sáng"):
        return 0 if hour == 12 else hour
    if marker in ("pm", "p.m.", "ch", "chiều", "tối"):
        return hour if hour == 12 else hour + 12
    if marker == "trưa":
        return hour + 12 if hour <= 4 else hour
    # đêm: "12 giờ đêm" is midnight, "2 giờ đêm" after it, "10 giờ đêm" before it
    if hour == 12:
        return 0
    return hour + 12 if hour >= 6 else hour


def _relative(low: str, now: datetime | None) -> datetime | None:
    if "trước" not in low and "cách đây" not in low:
        return None
    for m in _RELATIVE_RE.finditer(low):
        if m["ago"] is None and not m.group().startswith("cách đây"):
            continue
        delta = timedelta()
        for count, unit in _REL_PART_RE.findall(m["parts"]):
            delta += int(count) * _UNITS[unit]
        base = datetime.now(VIETNAM_TZ) if now is None else now
        if base.tzinfo is None:
            base = base.replace(tzinfo=VIETNAM_TZ)
        try:
            return (base - delta).astimezone(VIETNAM_TZ)
        except OverflowError:
            return None
    return None


def _fallback(low: str, order: str) -> datetime | None:
    # dateparser costs milliseconds: only text short enough to be a date line, with a year and
    # a day next to a month word (or an English month name), gets there. Its answer must use
    # numbers that are in the text.
    if len(low) > _FALLBACK_MAX_LEN:
        return None
    years = _YEAR_RE.findall(low)
    if not years or not _FALLBACK_HINT_RE.search(low):
        return None
    result = _fallback_parser(order).get_date_data(low).date_obj
    if result is None:
        return None
    numbers = {int(n) for n in _NUMBER_RE.findall(low)}
    if str(result.year) not in years or result.day not in numbers:
        return None
    if result.tzinfo is None:
        result = result.replace(tzinfo=VIETNAM_TZ)
    return result.astimezone(VIETNAM_TZ)


def _fallback_parser(order: str) -> DateDataParser:
    parser = _fallback_parsers.get(order)
    if parser is None:
        # Imported here: dateparser is slow to import and most calls never need it.
        from dateparser.date import DateDataParser

        parser = DateDataParser(
            languages=["vi", "en"],
            settings={
                "DATE_ORDER": order,
                "REQUIRE_PARTS": ["day", "month", "year"],
                "STRICT_PARSING": True,
                "TIMEZONE": "Asia/Ho_Chi_Minh",
                "TO_TIMEZONE": "Asia/Ho_Chi_Minh",
                "RETURN_AS_TIMEZONE_AWARE": True,
                "PARSERS": ["absolute-time"],
            },
        )
        _fallback_parsers[order] = parser
    return parser
