"""Writing the files the monitor produces for people (report pages, the Atom feed) whole."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_whole(path: Path, content: str) -> None:
    """Write `content` to `path` through a temporary file in the same directory, renamed over
    it: a reader (a browser, a feed reader) never sees a file cut short, and a failed write
    leaves the previous file as it was and no temporary file behind."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(content)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; these files are for reading
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
