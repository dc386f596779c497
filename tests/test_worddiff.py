"""Word-level diff: the pieces rebuild both texts and mark exactly the edited words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coopspider.monitor.worddiff import word_diff


def rebuild(pieces: list[tuple[str, str]], dropped: str) -> str:
    return "".join(text for operation, text in pieces if operation != dropped)


def test_marks_the_changed_words_only() -> None:
    pieces = word_diff("Hội nghị tổng kết năm 2024", "Hội nghị sơ kết năm 2025")
    assert pieces == [
        ("equal", "Hội nghị "),
        ("delete", "tổng"),
        ("insert", "sơ"),
        ("equal", " kết năm "),
        ("delete", "2024"),
        ("insert", "2025"),
    ]


def test_identical_texts_are_one_equal_piece() -> None:
    assert word_diff("Đông Quý", "Đông Quý") == [("equal", "Đông Quý")]
    assert word_diff("", "") == []


def test_pure_insertion_at_the_end() -> None:
    assert word_diff("Một hai", "Một hai ba") == [("equal", "Một hai"), ("insert", " ba")]


@given(st.text(alphabet="ab ạđ\n", max_size=40), st.text(alphabet="ab ạđ\n", max_size=40))
def test_pieces_rebuild_both_texts(old: str, new: str) -> None:
    pieces = word_diff(old, new)
    assert rebuild(pieces, "insert") == old
    assert rebuild(pieces, "delete") == new
