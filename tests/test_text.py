"""Text normalisation: `clean_line` folds exactly the spaces its definition names."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from coopspider.text import (
    _ACCENTS,
    clean_line,
    clean_paragraphs,
    fold_keeping_offsets,
    strip_controls,
)

# The definition `clean_line` once applied as it reads: every run of these characters (spaces and
# control characters), one space.
_SPACES = re.compile(r"[\s\u00a0\u200b\u2007\u202f\ufeff\x00-\x1f\x7f-\x9f]+")
_AWKWARD = (
    " \t\n\r\x0b\x0c\x1c\x85\u00a0\u1680\u2007\u200b\u2028\u202f\u3000\ufeffaAếẾđ\u0301"
    "\x00\x07\x1b\x7f\x9b"
)


def _by_definition(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


@given(st.text(alphabet=_AWKWARD) | st.text())
def test_clean_line_folds_every_space_run(text: str) -> None:
    assert clean_line(text) == _by_definition(text)


def test_clean_line_and_fold_on_a_vietnamese_line() -> None:
    line = "\ufeff  Ngày\u00a0đăng:\u200b 06/02/2023 \n"
    assert clean_line(line) == "Ngày đăng: 06/02/2023"
    assert fold_keeping_offsets(line) == "ngay dang: 06/02/2023"


def test_accent_table_maps_latin_letters_to_their_base_only() -> None:
    # The table as a dict, built as it reads: every letter below U+2000 whose decomposition
    # starts with an ASCII letter, and đ, Đ.
    by_rule = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0x00C0, 0x2000):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            by_rule[code] = base
    every = "".join(map(chr, range(0x110000)))
    assert every.translate(_ACCENTS) == every.translate(by_rule)


def test_control_characters_become_spaces_in_clean_text() -> None:
    assert clean_line("Hội\x1b]0;x\x07 nghị\x00tổng\x9bkết") == "Hội ]0;x nghị tổng kết"
    assert clean_paragraphs("Một\x07\n\nHai\x1b[2J") == "Một\n\nHai [2J"


def test_strip_controls_keeps_tab_and_line_breaks_only() -> None:
    assert strip_controls("a\tb\nc\r\n\x1b[31md\x7f\x85e\x00") == "a\tb\nc\r\n[31mde"
    assert strip_controls("Hợp tác xã") == "Hợp tác xã"
