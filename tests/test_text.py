"""Text normalisation, checked against hand-written inputs and outputs."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coopspider.text import clean_line, clean_paragraphs, fold_keeping_offsets, strip_controls

# Hand-written pairs: each space-like or control character a crawled page has shown us, and NFD
# text (how some editors save Vietnamese) coming back composed.
CLEAN_LINE_CASES = [
    ("", ""),
    (" \t\n\r ", ""),
    ("Hợp  tác\txã", "Hợp tác xã"),
    ("Hợp\u00a0tác\u202fxã\u2007mới", "Hợp tác xã mới"),
    ("\ufeffLiên\u200bminh", "Liên minh"),
    ("Nghị\u2028quyết\u3000số\u16801", "Nghị quyết số 1"),
    ("a\x0b\x0cb\x1cc\x85d", "a b c d"),
    ("Tin\x00tức\x07mới\x1b[0m", "Tin tức mới [0m"),
    ("Ho\u031b\u0323p ta\u0301c xa\u0303", "Hợp tác xã"),
    ("Đa\u0306\u0301k La\u0306\u0301k", "Đắk Lắk"),
    ("e\u0302\u0301\u00a0\u0301", "ế \u0301"),
]


@pytest.mark.parametrize(("raw", "expected"), CLEAN_LINE_CASES)
def test_clean_line(raw: str, expected: str) -> None:
    assert clean_line(raw) == expected


_AWKWARD = (
    " \t\n\r\x0b\x0c\x1c\x85\u00a0\u1680\u2007\u200b\u2028\u202f\u3000\ufeffaAếẾđ\u0301"
    "\x00\x07\x1b\x7f\x9b"
)


# Every character of _AWKWARD but the space and the letters.
NOT_IN_CLEAN_TEXT = (
    "\t\n\r\x0b\x0c\x1c\x85\u00a0\u1680\u2007\u200b\u2028\u202f\u3000\ufeff\x00\x07\x1b\x7f\x9b"
)


@given(st.text(alphabet=_AWKWARD) | st.text())
def test_clean_line_leaves_one_plain_space_between_words(text: str) -> None:
    cleaned = clean_line(text)
    assert cleaned == cleaned.strip(" ")
    assert "  " not in cleaned
    assert not set(cleaned) & set(NOT_IN_CLEAN_TEXT)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_line(cleaned) == cleaned


def test_clean_line_and_fold_on_a_vietnamese_line() -> None:
    line = "\ufeff  Ngày\u00a0đăng:\u200b 06/02/2023 \n"
    assert clean_line(line) == "Ngày đăng: 06/02/2023"
    assert fold_keeping_offsets(line) == "ngay dang: 06/02/2023"


FOLD_CASES = [
    ("Hợp tác xã", "hop tac xa"),
    ("ĐẮK LẮK", "dak lak"),
    ("Ho\u031b\u0323p ta\u0301c xa\u0303", "hop tac xa"),
    ("Liên minh HTX tỉnh Thừa Thiên Huế", "lien minh htx tinh thua thien hue"),
    ("Ấp Ứng Ờ Ở Ỡ Ợ ỹ", "ap ung o o o o y"),
    ("Ça Ñ Ø ß", "ca n ø ß"),
    ("Ωμέγα € ﬁ", "ωμέγα € ﬁ"),
]


@pytest.mark.parametrize(("raw", "expected"), FOLD_CASES)
def test_fold_drops_accents_of_latin_letters_only(raw: str, expected: str) -> None:
    assert fold_keeping_offsets(raw) == expected


def test_fold_keeps_offsets() -> None:
    line = "Hội nghị Ban Chấp hành Liên minh HTX tỉnh lần thứ 5"
    folded = fold_keeping_offsets(line)
    assert len(folded) == len(line)
    assert line[folded.index("lien minh") :][:9] == "Liên minh"


def test_control_characters_become_spaces_in_clean_text() -> None:
    assert clean_line("Hội\x1b]0;x\x07 nghị\x00tổng\x9bkết") == "Hội ]0;x nghị tổng kết"
    assert clean_paragraphs("Một\x07\n\nHai\x1b[2J") == "Một\n\nHai [2J"


def test_strip_controls_keeps_tab_and_line_breaks_only() -> None:
    assert strip_controls("a\tb\nc\r\n\x1b[31md\x7f\x85e\x00") == "a\tb\nc\r\n[31mde"
    assert strip_controls("Hợp tác xã") == "Hợp tác xã"
