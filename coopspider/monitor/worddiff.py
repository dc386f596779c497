"""Word-level differences between two texts, for people reading what an edit changed."""

from __future__ import annotations

import difflib
import re
from typing import Literal

Operation = Literal["equal", "insert", "delete"]

# Words and the whitespace between them are separate tokens: joining the pieces gives the text
# back, and an appended word does not make the word before it look edited.
_TOKEN = re.compile(r"\S+|\s+")


def word_diff(old: str, new: str) -> list[tuple[Operation, str]]:
    """The pieces of `old` and `new` in reading order, each kept, deleted or inserted.

    Joining the "equal" and "delete" pieces gives `old`; "equal" and "insert" give `new`.
    """
    old_words = _TOKEN.findall(old)
    new_words = _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    pieces: list[tuple[Operation, str]] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            _append(pieces, "equal", "".join(new_words[new_start:new_end]))
            continue
        _append(pieces, "delete", "".join(old_words[old_start:old_end]))
        _append(pieces, "insert", "".join(new_words[new_start:new_end]))
    return pieces


def _append(pieces: list[tuple[Operation, str]], operation: Operation, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1][0] == operation:
        pieces[-1] = (operation, pieces[-1][1] + text)
    else:
        pieces.append((operation, text))
