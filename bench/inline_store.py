"""Bench-only: the archive written inside the crawl's process, for bench_crawl.py's `inline` design.

The crawl writes through a separate writer process (coopspider.pipelines.writer); the settings
have no switch for writing in the crawl's own process, and the benchmark must not change the
crawl. This stand-in has the writer's interface and writes with the writer's own functions, in
the same batches of up to 32 items a transaction, but in Scrapy's worker threads (the style's
`asyncio.to_thread` for blocking work): items are gathered on the reactor thread without
waiting, and the item that fills a batch writes it from a thread. bench_crawl.py puts bench/ on
PYTHONPATH and names `inline_store.InlineStorePipeline` in place of the store in ITEM_PIPELINES.
"""

from __future__ import annotations

import threading
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import Any
from unittest import mock

from coopspider.pipelines import store
from coopspider.pipelines.writer import _BATCH, Outcome, Task, WarcSettings, _write, savers
from storage import open_database


class InlineWriter:
    """ArchiveWriter's interface, writing in the calling process."""

    def __init__(
        self,
        database_url: str,
        run_id: int,
        baseline: bool = False,
        warc: WarcSettings | None = None,
    ) -> None:
        self.database = open_database(database_url)
        self.warc = warc.open() if warc is not None else None
        self.save = savers(baseline, self.warc)
        self.run_id = run_id
        self.pending: list[Task] = []
        self.done: list[Outcome] = []
        self.writing = threading.Lock()  # pending items and the database, one writer at a time
        self.reading = threading.Lock()  # outcomes
        self.process = SimpleNamespace(exitcode=None)  # read only when a writer process died
        self.alive = True
        self.failed = False

    def try_submit(self, kind: str, record: dict[str, Any]) -> bool:
        """Gather an item without waiting; False when it would fill the batch or a write is
        under way (the caller then submits it from a thread)."""
        if not self.writing.acquire(blocking=False):
            return False
        try:
            if len(self.pending) >= _BATCH - 1:
                return False
            self.pending.append((kind, record))
            return True
        finally:
            self.writing.release()

    def submit(self, kind: str, record: dict[str, Any]) -> bool:
        """Gather an item and write the batch when it is full (call from a worker thread)."""
        with self.writing:
            self.pending.append((kind, record))
            if len(self.pending) >= _BATCH:
                self._write_pending()
        return True

    def _write_pending(self) -> None:
        batch, self.pending = self.pending, []
        outcomes = []
        for kind, group in groupby(batch, key=itemgetter(0)):
            records = [record for _, record in group]
            outcomes += _write(
                self.database, self.save[kind], kind, records, self.run_id, self.warc
            )
        with self.reading:
            self.done += outcomes

    def collect(self) -> list[Outcome]:
        """The outcomes written so far and not yet collected."""
        with self.reading:
            done, self.done = self.done, []
        return done

    def close(self) -> list[Outcome]:
        """Write what is gathered; the remaining outcomes."""
        with self.writing:
            self._write_pending()
        if self.warc is not None:
            self.warc.close()
        self.database.close()
        return self.collect()


class InlineStorePipeline(store.StorePipeline):
    """The store pipeline with the archive written in the crawl's process."""

    async def open_spider(self) -> None:
        with mock.patch.object(store, "ArchiveWriter", InlineWriter):
            await super().open_spider()
