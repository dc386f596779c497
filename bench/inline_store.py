"""Bench-only: the archive written inside the crawl's process, for bench_crawl.py's `inline` design.

The crawl writes through a separate writer process (coopspider.pipelines.writer); the settings
have no switch for writing in the crawl's own process, and the benchmark must not change the
crawl. This stand-in has the writer's interface and writes with the writer's own functions, in
the same batches of up to 32 items a transaction, on the reactor's thread: the item that fills
a batch writes it before it returns (about 0.4 ms of CPU an article, so a batch holds the
reactor some 13 ms). Written from Scrapy's worker threads instead (the style's
`asyncio.to_thread`), the same crawl spent about 1 ms more CPU a page and fetched fewer pages a
second: the writer and the crawl share one interpreter lock, and handing it back and forth cost
more than the write itself (2026-12-06, bench_crawl's sample site on nginx, two rounds; the
writer's own CPU, read with time.thread_time, was 1.3 ms an article in the thread against 0.41
replaying the same batches alone). bench_crawl.py puts bench/ on PYTHONPATH and names
`inline_store.InlineStorePipeline` in place of the store in ITEM_PIPELINES.
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import Any
from unittest import mock

from coopspider.pipelines import store
from coopspider.pipelines.writer import _BATCH, Outcome, Task, WarcSettings, _write, savers
from storage import open_database


class InlineWriter:
    """ArchiveWriter's interface, writing in the calling thread, the reactor's."""

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
        self.process = SimpleNamespace(exitcode=None)  # read only when a writer process died
        self.alive = True
        self.failed = False

    def try_submit(self, kind: str, record: dict[str, Any]) -> bool:
        """Gather an item, and write the batch it fills; always taken, so the store pipeline
        never hands an item to a thread."""
        self.pending.append((kind, record))
        if len(self.pending) >= _BATCH:
            self._write_pending()
        return True

    def _write_pending(self) -> None:
        batch, self.pending = self.pending, []
        for kind, group in groupby(batch, key=itemgetter(0)):
            records = [record for _, record in group]
            self.done += _write(
                self.database, self.save[kind], kind, records, self.run_id, self.warc
            )

    def collect(self) -> list[Outcome]:
        """The outcomes written so far and not yet collected."""
        done, self.done = self.done, []
        return done

    def close(self) -> list[Outcome]:
        """Write what is gathered; the remaining outcomes. The store pipeline calls this from a
        worker thread, once the crawl has stopped handing it items."""
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
