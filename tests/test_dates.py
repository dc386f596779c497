"""Tests for coopspider.dates: the labelled corpus, unit cases and property-based round trips."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coopspider import dates
from coopspider.dates import VIETNAM_TZ, parse_date, to_iso
from tests.conftest import FUZZ_INPUTS

CORPUS_PATH = Path(__file__).parent / "data" / "dates_corpus.json"
CORPUS = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))


def _parse_case(case: dict) -> str | None:
    now = datetime.fromisoformat(case["now"]) if case.get("now") else None
    result = parse_date(case["text"], now=now, order=case.get("order", "DMY"))
    return None if result is None else to_iso(result)


def test_corpus_is_large_and_has_traps() -> None:
    assert len(CORPUS) >= 150
    assert sum(case["expected"] is None for case in CORPUS) >= 40
    keys = {(case["text"], case.get("now"), case.get("order")) for case in CORPUS}
    assert len(keys) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[repr(case["text"])[:60] for case in CORPUS])
def test_corpus(case: dict) -> None:
    assert _parse_case(case) == case["expected"]


def test_result_is_aware_vietnam_time() -> None:
    result = parse_date("Ngày: 13/07/2023")
    assert result == datetime(2023, 7, 13, tzinfo=VIETNAM_TZ)
    assert result is not None and result.utcoffset() == timedelta(hours=7)


def test_to_iso() -> None:
    assert to_iso(datetime(2023, 7, 13, tzinfo=VIETNAM_TZ)) == "2023-07-13T00:00:00+07:00"
    utc = datetime(2023, 7, 12, 20, 30, 15, 999999, tzinfo=UTC)
    assert to_iso(utc) == "2023-07-13T03:30:15+07:00"
    assert to_iso(datetime(2023, 7, 13, 9, 5)) == "2023-07-13T09:05:00+07:00"
    assert to_iso(datetime(1960, 1, 1, 1, tzinfo=UTC)) == "1960-01-01T08:00:00+07:00"


def test_vietnam_tz_is_zoneinfo() -> None:
    assert str(VIETNAM_TZ) == "Asia/Ho_Chi_Minh"


def test_bad_order_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_date("13/07/2023", order="YMD")


def test_relative_without_now_uses_current_time() -> None:
    before = datetime.now(VIETNAM_TZ)
    result = parse_date("5 phút trước")
    after = datetime.now(VIETNAM_TZ)
    assert result is not None
    assert before - timedelta(minutes=5) <= result <= after - timedelta(minutes=5)


def test_relative_with_naive_now_is_vietnam_time() -> None:
    result = parse_date("2 giờ trước", now=datetime(2023, 7, 13, 10, 0))
    assert result == datetime(2023, 7, 13, 8, 0, tzinfo=VIETNAM_TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cách đây 3 ngày", "2023-07-10T10:00:00+07:00"),
        ("1 giờ 30 phút trước", "2023-07-13T08:30:00+07:00"),
        ("2 tiếng trước", "2023-07-13T08:00:00+07:00"),
    ],
)
def test_relative_variants(text: str, expected: str) -> None:
    now = datetime(2023, 7, 13, 10, 0, tzinfo=VIETNAM_TZ)
    result = parse_date(text, now=now)
    assert result is not None and to_iso(result) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10h30 ngày 13/7/2023", "2023-07-13T10:30:00+07:00"),
        ("Lúc 8h ngày 20/10/2023", "2023-10-20T08:00:00+07:00"),
        ("19 giờ 30 phút ngày 2/9/2023", "2023-09-02T19:30:00+07:00"),
        ("Ngày 13/7/2023 lúc 9h", "2023-07-13T09:00:00+07:00"),
        ("10:00 GMT+0, 12/07/2023", "2023-07-12T17:00:00+07:00"),
        ("15:00 GMT+8, 01/03/2024", "2024-03-01T14:00:00+07:00"),
        ("2023/07/13", "2023-07-13T00:00:00+07:00"),
        ("13\u201307\u20132023", "2023-07-13T00:00:00+07:00"),
        ("Ngày\u200b: 13/07/2023", "2023-07-13T00:00:00+07:00"),
        ("Quyết định số 12/2023/QĐ-UBND ngày 15/12/2023", "2023-12-15T00:00:00+07:00"),
        ("25:10 13/07/2023", "2023-07-13T00:00:00+07:00"),
        ("Ngày 13.07.2023.Lượt xem: 12", "2023-07-13T00:00:00+07:00"),
        ("2023-7-9", "2023-07-09T00:00:00+07:00"),
    ],
)
def test_fast_path_extras(text: str, expected: str) -> None:
    result = parse_date(text)
    assert result is not None and to_iso(result) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("July 13, 2023", "2023-07-13T00:00:00+07:00"),
        ("13 July 2023 10:20", "2023-07-13T10:20:00+07:00"),
        ("Jul 4, 2022 9:30 PM", "2022-07-04T21:30:00+07:00"),
    ],
)
@pytest.mark.slow
def test_dateparser_fallback(text: str, expected: str) -> None:
    result = parse_date(text)
    assert result is not None and to_iso(result) == expected


@pytest.mark.parametrize(
    "text",
    [
        "May 2023",
        "tháng 6 năm 2023 có 12 HTX",
        "Tháng Tư, 2024",
        "https://lmhtxdaknong.vn/2023/07/13/hoi-nghi/",
        "Số 12/05/2023/QĐ-UBND",
        "ĐT: 0227.12.05.2023",
    ],
)
def test_does_not_invent(text: str) -> None:
    assert parse_date(text) is None


NON_DATE_LINES = [
    "Liên minh Hợp tác xã tỉnh Thái Bình tổ chức Hội nghị sơ kết 6 tháng đầu năm 2023",
    "Tính đến hết tháng 6/2023 toàn tỉnh có 349 HTX nông nghiệp, 85 Quỹ TDND, 29 HTX lĩnh vực "
    "công nghiệp - tiểu thủ công nghiệp, vận tải, xây dựng",
    "Đến hết tháng 6/2023, Liên minh Hợp tác xã tỉnh đã tổ chức 04 lớp tập huấn",
    "Hội nghị sơ kết công tác 6 tháng đầu năm 2023 của Liên minh HTX tỉnh",
    "TIN MỚI: Triển khai nhiệm vụ 6 tháng cuối năm 2023",
    "Thống kê truy cập:280451",
    "Số người trực tuyến: 43",
    "Lượt xem: 1234",
    "Điện thoại: 0227.3831.234 - Fax: 0227.3831.235",
    "Trang chủ | Giới thiệu | Tin tức - Sự kiện | Chính sách hỗ trợ | Liên hệ",
    "Thùy Dung",
    "Năm 2023",
]


def test_non_date_lines_never_reach_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(order: str) -> None:
        raise AssertionError("dateparser called")

    monkeypatch.setattr(dates, "_fallback_parser", forbidden)
    for line in NON_DATE_LINES:
        assert parse_date(line) is None, line


# Property-based round trips: a random instant rendered in each supported format parses back.

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
WEEKDAYS_SHORT = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"]
MONTHS = [
    "Một", "Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Mười Một", "Mười Hai",
]  # fmt: skip

Rendered = tuple[str, datetime, str]  # text, expected instant, order


def _day(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0)


def _minute(dt: datetime) -> datetime:
    return dt.replace(second=0)


def _h12(dt: datetime, am: str, pm: str) -> str:
    return f"{(dt.hour + 11) % 12 + 1:02d}:{dt.minute:02d} {am if dt.hour < 12 else pm}"


def fmt_label(dt: datetime) -> Rendered:
    return f"Ngày: {dt:%d/%m/%Y}", _day(dt), "DMY"


def fmt_label_unpadded(dt: datetime) -> Rendered:
    return f"Ngày cập nhật: {dt.day}/{dt.month}/{dt.year}", _day(dt), "DMY"


def fmt_posted(dt: datetime) -> Rendered:
    return f"Ngày đăng: {dt:%d/%m/%Y, %H:%M}", _minute(dt), "DMY"


def fmt_updated_at(dt: datetime) -> Rendered:
    return f"Cập nhật lúc {dt:%H:%M} ngày {dt:%d/%m/%Y}", _minute(dt), "DMY"


def fmt_weekday(dt: datetime) -> Rendered:
    return f"{WEEKDAYS[dt.weekday()]}, {dt.day}/{dt.month}/{dt.year} {dt:%H:%M}", _minute(dt), "DMY"


def fmt_weekday_number(dt: datetime) -> Rendered:
    name = "Chủ nhật" if dt.weekday() == 6 else f"Thứ {dt.weekday() + 2}"
    return f"{name}, {dt:%d/%m/%Y | %H:%M:%S}", dt, "DMY"


def fmt_weekday_short(dt: datetime) -> Rendered:
    return f"{WEEKDAYS_SHORT[dt.weekday()]}, {dt:%d/%m/%Y}", _day(dt), "DMY"


def fmt_weekday_gmt(dt: datetime) -> Rendered:
    text = f"{WEEKDAYS[dt.weekday()].lower()}, {dt.day}/{dt.month}/{dt.year}, {dt:%H:%M} (GMT+7)"
    return text, _minute(dt), "DMY"


def fmt_time_pipe(dt: datetime) -> Rendered:
    return f"({dt:%H:%M} | {dt:%d/%m/%Y})", _minute(dt), "DMY"


def fmt_time_first_dashes(dt: datetime) -> Rendered:
    return f"{dt:%H:%M}, ngày {dt:%d-%m-%Y}", _minute(dt), "DMY"


def fmt_time_gmt_weekday(dt: datetime) -> Rendered:
    text = f"{dt:%H:%M} GMT+7, {WEEKDAYS[dt.weekday()]}, {dt.day}/{dt.month}/{dt.year}"
    return text, _minute(dt), "DMY"


def fmt_am_pm(dt: datetime) -> Rendered:
    return f"{_h12(dt, 'AM', 'PM')} - {dt:%d/%m/%Y}", _minute(dt), "DMY"


def fmt_sa_ch(dt: datetime) -> Rendered:
    return f"{dt:%d/%m/%Y} | {_h12(dt, 'SA', 'CH')}", _minute(dt), "DMY"


def fmt_redundant_pm(dt: datetime) -> Rendered:
    marker = "PM" if dt.hour >= 12 else "AM"
    return f"{dt:%H:%M} {marker} {dt:%d/%m/%Y}", _minute(dt), "DMY"


def fmt_dots_seconds(dt: datetime) -> Rendered:
    return f"{dt:%d.%m.%Y %H:%M:%S}", dt, "DMY"


def fmt_spaced_dashes(dt: datetime) -> Rendered:
    return f"{dt:%d - %m - %Y}", _day(dt), "DMY"


def fmt_words(dt: datetime) -> Rendered:
    return f"Hưng Yên, ngày {dt.day} tháng {dt.month} năm {dt.year}", _day(dt), "DMY"


def fmt_month_name(dt: datetime) -> Rendered:
    return f"{dt.day} Tháng {MONTHS[dt.month - 1]} {dt.year}", _day(dt), "DMY"


def fmt_thg(dt: datetime) -> Rendered:
    return f"{dt:%d} thg {dt.month}, {dt.year}", _day(dt), "DMY"


def fmt_weekday_words(dt: datetime) -> Rendered:
    text = f"{WEEKDAYS[dt.weekday()]}, {dt.day} tháng {dt.month}, {dt.year} {dt:%H:%M}"
    return text, _minute(dt), "DMY"


def fmt_author(dt: datetime) -> Rendered:
    return f"NGỌC LAN - HỮU TÂM {dt:%H:%M}, {dt:%d/%m/%Y}", _minute(dt), "DMY"


def fmt_us(dt: datetime) -> Rendered:
    h12 = (dt.hour + 11) % 12 + 1
    meridiem = "AM" if dt.hour < 12 else "PM"
    text = f"{dt.month}/{dt.day}/{dt.year} {h12}:{dt:%M:%S} {meridiem}"
    return text, dt, "MDY"


def fmt_nfd(dt: datetime) -> Rendered:
    text, expected, order = fmt_weekday_words(dt)
    return unicodedata.normalize("NFD", text), expected, order


def fmt_nbsp(dt: datetime) -> Rendered:
    text, expected, order = fmt_updated_at(dt)
    return text.replace(" ", "\u00a0"), expected, order


FORMATS: list[Callable[[datetime], Rendered]] = [
    fmt_label,
    fmt_label_unpadded,
    fmt_posted,
    fmt_updated_at,
    fmt_weekday,
    fmt_weekday_number,
    fmt_weekday_short,
    fmt_weekday_gmt,
    fmt_time_pipe,
    fmt_time_first_dashes,
    fmt_time_gmt_weekday,
    fmt_am_pm,
    fmt_sa_ch,
    fmt_redundant_pm,
    fmt_dots_seconds,
    fmt_spaced_dashes,
    fmt_words,
    fmt_month_name,
    fmt_thg,
    fmt_weekday_words,
    fmt_author,
    fmt_us,
    fmt_nfd,
    fmt_nbsp,
]

# Vietnam has been UTC+7 since 1975; earlier years had other offsets in the tz database.
local_datetimes = st.datetimes(
    min_value=datetime(1976, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
).map(lambda dt: dt.replace(microsecond=0, tzinfo=VIETNAM_TZ))


@settings(max_examples=400, deadline=None)
@given(fmt=st.sampled_from(FORMATS), dt=local_datetimes)
@pytest.mark.slow
def test_round_trip_formats(fmt: Callable[[datetime], Rendered], dt: datetime) -> None:
    text, expected, order = fmt(dt)
    assert parse_date(text, order=order) == expected, text


@settings(max_examples=150, deadline=None)
@given(
    dt=local_datetimes,
    offset_minutes=st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: q * 15),
    style=st.sampled_from(["colon", "compact", "fraction"]),
)
def test_round_trip_iso(dt: datetime, offset_minutes: int, style: str) -> None:
    shown = dt.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = shown.isoformat()
    if style == "compact":
        text = text[:-3] + text[-2:]
    elif style == "fraction":
        text = text[:19] + ".250" + text[19:]
    if offset_minutes == 0 and style != "compact":
        text = text[: text.rindex("+")] + "Z"
    expected = dt + timedelta(milliseconds=250) if style == "fraction" else dt
    assert parse_date(text) == expected, text


@settings(max_examples=150, deadline=None)
@given(
    now=local_datetimes,
    count=st.integers(min_value=1, max_value=500),
    unit=st.sampled_from(["phút", "giờ", "ngày", "tuần"]),
)
def test_round_trip_relative(now: datetime, count: int, unit: str) -> None:
    step = {"phút": timedelta(minutes=1), "giờ": timedelta(hours=1)}.get(unit)
    step = step or {"ngày": timedelta(days=1), "tuần": timedelta(weeks=1)}[unit]
    assert parse_date(f"{count} {unit} trước", now=now) == now - count * step


def _check_result(result: datetime | None) -> None:
    assert result is None or result.tzinfo is VIETNAM_TZ


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
@pytest.mark.slow
def test_random_text_never_raises(text: str) -> None:
    FUZZ_INPUTS["parse_date: random text"] += 1
    _check_result(parse_date(text))


DATEISH_TOKENS = list("0123456789/.-:, |()+") + [
    "tháng", "thg ", "năm", "ngày", "giờ", "phút", "trước", " AM", " PM", " SA", " CH", "GMT+7",
    "Thứ ", "CN", "T", "Z", "h", "\u00a0", "cách đây ", "Mười Hai", "M. hai", "July ", "99",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    tokens=st.lists(st.sampled_from(DATEISH_TOKENS), max_size=30),
    now=st.one_of(st.none(), st.datetimes(), st.datetimes(timezones=st.timezones())),
    order=st.sampled_from(["DMY", "MDY"]),
)
@pytest.mark.slow
def test_dateish_text_never_raises(tokens: list[str], now: datetime | None, order: str) -> None:
    FUZZ_INPUTS["parse_date: random date-like tokens"] += 1
    _check_result(parse_date("".join(tokens), now=now, order=order))
