"""Word-level differences between two texts, for people reading what an edit changed.

The cost stays close to linear in the length of the texts: paragraphs are aligned first, then
the sentences of the paragraphs that differ, and words are compared only inside the sentences
that differ. A change too large to compare word by word within WORD_BUDGET is shown as its
old text deleted and its new text inserted.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

Operation = Literal["equal", "insert", "delete"]
Piece = tuple[Operation, str]

# Each level splits a text into units that rebuild it when joined: paragraphs with the line
# breaks after them, sentences with the spaces after them, then words with the spaces before them
# (an appended word is then " word", and the word before it does not look edited).
_PARAGRAPH = re.compile(r"[^\n]+\n*|\n+")
_SENTENCE = re.compile(r".+?(?:[.!?…;:](?=\s)\s*|\Z)", re.DOTALL)
_WORD = re.compile(r"\s*\S+|\s+")
_LEVELS = (_PARAGRAPH, _SENTENCE, _WORD)
# Above this many word pairs (old words x new words) in one changed sentence, the words are not
# matched one by one (the matcher's time grows with the product).
WORD_BUDGET = 40_000
# Changed words shown in one field's diff; the rest are counted ("N more words changed").
SHOWN_CHANGED_WORDS = 300


def word_diff(old: str, new: str) -> list[Piece]:
    """The pieces of `old` and `new` in reading order, each kept, deleted or inserted.

    Joining the "equal" and "delete" pieces gives `old`; "equal" and "insert" give `new`.
    """
    pieces: list[Piece] = []
    _diff(old, new, 0, pieces)
    return _whitespace_kept(pieces)


def _diff(old: str, new: str, level: int, pieces: list[Piece]) -> None:
    if old == new:
        _append(pieces, "equal", old)
        return
    if not old or not new:
        _append(pieces, "delete", old)
        _append(pieces, "insert", new)
        return
    pattern = _LEVELS[level]
    old_units, new_units = pattern.findall(old), pattern.findall(new)
    head, tail = _common_ends(old_units, new_units)
    _append(pieces, "equal", "".join(old_units[:head]))
    old_middle = old_units[head : len(old_units) - tail]
    new_middle = new_units[head : len(new_units) - tail]
    if pattern is _WORD:
        _diff_words(old_middle, new_middle, pieces)
    else:
        for old_gap, new_gap, anchor in _gaps(old_middle, new_middle):
            if len(old_gap) == len(new_gap):
                # As many units on each side: most likely each one edited in place.
                for old_unit, new_unit in zip(old_gap, new_gap, strict=True):
                    _diff(old_unit, new_unit, level + 1, pieces)
            else:
                _diff("".join(old_gap), "".join(new_gap), level + 1, pieces)
            _append(pieces, "equal", anchor)
    _append(pieces, "equal", "".join(old_units[len(old_units) - tail :]))


def _diff_words(old: list[str], new: list[str], pieces: list[Piece], anchored: bool = True) -> None:
    if len(old) * len(new) > WORD_BUDGET:
        if not anchored:
            _append(pieces, "delete", "".join(old))
            _append(pieces, "insert", "".join(new))
            return
        for old_gap, new_gap, anchor in _gaps(old, new):
            _diff_words(old_gap, new_gap, pieces, anchored=False)
            _append(pieces, "equal", anchor)
        return
    # Words repeat a lot (a Vietnamese word is a syllable): none of them may be taken for junk.
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            _append(pieces, "equal", "".join(new[new_start:new_end]))
        else:
            _append(pieces, "delete", "".join(old[old_start:old_end]))
            _append(pieces, "insert", "".join(new[new_start:new_end]))


def _gaps(old: list[str], new: list[str]) -> Iterator[tuple[list[str], list[str], str]]:
    """`old` and `new` cut at their anchors: (old units, new units, the anchor after them), the
    last anchor empty."""
    old_at = new_at = 0
    for old_anchor, new_anchor in _anchors(old, new):
        yield old[old_at:old_anchor], new[new_at:new_anchor], old[old_anchor]
        old_at, new_at = old_anchor + 1, new_anchor + 1
    yield old[old_at:], new[new_at:], ""


def _anchors(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Pairs of positions of units found once in `old` and once in `new`, the longest run of
    them in the same order on both sides (patience diff): O(n log n), unlike matching every
    unit against every other."""
    old_count = Counter(old)
    new_count = Counter(new)
    new_at = {unit: index for index, unit in enumerate(new) if new_count[unit] == 1}
    pairs = [
        (index, new_at[unit])
        for index, unit in enumerate(old)
        if old_count[unit] == 1 and unit in new_at
    ]
    # Longest increasing run of the `new` positions, by patience sorting.
    tops: list[int] = []  # the smallest `new` position ending a run of each length
    ends: list[int] = []  # the pair ending that run
    before: list[int] = []  # each pair's predecessor in its run
    for number, (_, new_index) in enumerate(pairs):
        length = bisect.bisect_left(tops, new_index)
        if length == len(tops):
            tops.append(new_index)
            ends.append(number)
        else:
            tops[length] = new_index
            ends[length] = number
        before.append(ends[length - 1] if length else -1)
    run = []
    number = ends[-1] if ends else -1
    while number >= 0:
        run.append(pairs[number])
        number = before[number]
    return run[::-1]


def _common_ends(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """How many units `old` and `new` share at their start, then at their end (not overlapping)."""
    shortest = min(len(old), len(new))
    head = 0
    while head < shortest and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < shortest - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def _whitespace_kept(pieces: list[Piece]) -> list[Piece]:
    """Pieces with the whitespace that starts both sides of an edit moved into the kept text
    before it: "tổng" replaced by "sơ", not " tổng" by " sơ"."""
    result: list[Piece] = []
    for operation, text in pieces:
        if operation == "insert" and result and result[-1][0] == "delete":
            deleted = result[-1][1]
            shared = len(deleted) - len(deleted.lstrip())
            shared = min(shared, len(text) - len(text.lstrip()))
            while shared and deleted[:shared] != text[:shared]:
                shared -= 1
            if shared:
                result.pop()
                _append(result, "equal", text[:shared])
                _append(result, "delete", deleted[shared:])
                text = text[shared:]
        _append(result, operation, text)
    return result


def _append(pieces: list[Piece], operation: Operation, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1][0] == operation:
        pieces[-1] = (operation, pieces[-1][1] + text)
    else:
        pieces.append((operation, text))


@dataclass(frozen=True)
class ShownDiff:
    """A word diff as shown to people: its first changed words, and how many more there are."""

    pieces: tuple[Piece, ...]
    more_words: int  # changed words left out after the shown pieces

    @property
    def more_sentence(self) -> str:
        """The note for the words left out, in Vietnamese; empty when none are."""
        if not self.more_words:
            return ""
        return f"… và {self.more_words:,} từ khác đã thay đổi".replace(",", ".")


def shown_word_diff(old: str, new: str, limit: int = SHOWN_CHANGED_WORDS) -> ShownDiff:
    """The word diff of `old` and `new` until `limit` changed words are shown; the changed words
    after them are counted."""
    return capped(word_diff(old, new), limit)


def capped(pieces: Iterable[Piece], limit: int = SHOWN_CHANGED_WORDS) -> ShownDiff:
    """`pieces` until `limit` changed words are shown; the changed words after them counted."""
    shown: list[Piece] = []
    room = limit
    more = 0
    for operation, text in pieces:
        if more:  # past the limit: changed words are only counted
            more += 0 if operation == "equal" else _count_words(_WORD.findall(text))
            continue
        if operation == "equal":
            shown.append((operation, text))
            continue
        units = _WORD.findall(text)
        count = _count_words(units)
        if count <= room:
            shown.append((operation, text))
            room -= count
            continue
        kept: list[str] = []
        while room:
            kept.append(units[len(kept)])
            room -= not kept[-1].isspace()
        if kept:
            shown.append((operation, "".join(kept)))
        more = count - _count_words(kept)
    return ShownDiff(tuple(shown), more)


def _count_words(units: Iterable[str]) -> int:
    return sum(1 for unit in units if not unit.isspace())
