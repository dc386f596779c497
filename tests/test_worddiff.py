"""Word-level diff: the pieces rebuild both texts and mark exactly the edited words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coopspider.monitor.worddiff import capped, word_diff


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


@given(
    st.text(alphabet="ab ạđ.,\n", max_size=300),
    st.text(alphabet="ab ạđ.,\n", max_size=300),
)
def test_pieces_rebuild_both_texts_across_paragraphs_and_sentences(old: str, new: str) -> None:
    pieces = word_diff(old, new)
    assert rebuild(pieces, "insert") == old
    assert rebuild(pieces, "delete") == new


def test_an_edit_in_every_paragraph_is_marked_word_by_word() -> None:
    paragraphs = [
        f"Đoạn {n}: hợp tác xã số {n} báo cáo kết quả. Năm {n} tăng trưởng." for n in range(300)
    ]
    edited = [p.replace("tăng", "giảm") if n % 3 == 0 else p for n, p in enumerate(paragraphs)]
    pieces = word_diff("\n\n".join(paragraphs), "\n\n".join(edited))
    assert [text for operation, text in pieces if operation == "delete"] == ["tăng"] * 100
    assert [text for operation, text in pieces if operation == "insert"] == ["giảm"] * 100


def test_capped_shows_the_first_changed_words_and_counts_the_rest() -> None:
    old = " ".join(f"từ{n}" for n in range(1000))
    new = " ".join(f"chữ{n}" if n % 2 else f"từ{n}" for n in range(1000))
    shown = capped(word_diff(old, new), limit=10)
    changed = [text for operation, text in shown.pieces if operation != "equal"]
    assert sum(len(text.split()) for text in changed) == 10
    assert shown.more_words == 2 * 500 - 10
    assert shown.more_sentence == "… và 990 từ khác đã thay đổi"
    whole = capped(word_diff(old, new), limit=10_000)
    assert whole.more_words == 0 and whole.more_sentence == ""


def test_one_huge_insertion_is_cut_at_the_limit() -> None:
    shown = capped(word_diff("", "chữ " * 5000), limit=300)
    assert shown.pieces == (("insert", "chữ " * 299 + "chữ"),)
    assert shown.more_words == 4700
