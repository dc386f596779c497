"""A one-line progress counter for long commands, on stderr and only when it is a terminal.

Cron jobs and pipes get nothing: their logs stay clean and their stdout stays data.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

_REFRESH_S = 0.2


class Progress:
    """Counts work done and redraws `label: done/total note` at most five times a second."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.note = ""
        self._drawn_at = 0.0

    def advance(self, count: int = 1, note: str | None = None) -> None:
        """Count `count` more done; `note` replaces the text shown after the count."""
        self.done += count
        if note is not None:
            self.note = note
        if self.enabled and time.monotonic() - self._drawn_at >= _REFRESH_S:
            self._draw()

    def _draw(self, end: str = "") -> None:
        of_total = f"/{self.total}" if self.total is not None else ""
        # \x1b[K clears what a longer previous line left on the right.
        self.stream.write(f"\r{self.label}: {self.done}{of_total}{self.note}\x1b[K{end}")
        self.stream.flush()
        self._drawn_at = time.monotonic()

    def finish(self) -> None:
        """Draw the final count and end the line."""
        if self.enabled:
            self._draw(end="\n")

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.finish()
