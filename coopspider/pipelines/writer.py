"""A separate process that writes items into the archive while the crawl goes on.

Writing the archive costs CPU the crawl's own process would otherwise spend; in a thread it would
share the crawl's interpreter lock. A process of its own lets the crawl use one core and the
archive another. Items are written together, up to 32 in one transaction: those queued within
0.1 s of the first, so a fast crawl pays the per-statement cost (one statement a table and batch,
see `store_articles`) once a batch and a slow one waits no more than that. A crash loses at most
the items not yet committed, and those are fetched again by the next crawl.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from multiprocessing.queues import Queue
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from coopspider.processes import ignore_sigint, sigint_held_for_children
from storage import (
    Database,
    archive_articles,
    confirm_unchanged,
    open_database,
    parse_timestamp,
    save_counter,
)
from storage.warc import WarcFiles

_QUEUE_SIZE = 256
# Items written in one transaction, at most: one at a time, the cost of each statement and query
# made the writer the crawl's largest user of CPU after the crawl itself.
_BATCH = 32
# How long the writer waits for more items after the first: taking only what was already queued,
# batches in the crawl benchmark were small and the writer used twice the CPU.
_GATHER_S = 0.1


def _confirm_unchanged(session: Session, record: dict[str, Any], run_id: int) -> str | None:
    """Write a 304 answer; "unchanged", or None when the article is not in the archive."""
    seen_at = parse_timestamp(record["fetched_at"])
    assert seen_at is not None
    found = confirm_unchanged(session, record["site"], record["article_id"], run_id, seen_at)
    return "unchanged" if found else None


Saver = Callable[[Session, list[dict[str, Any]], int], list[Any]]


def _one_by_one(save: Callable[[Session, dict[str, Any], int], Any]) -> Saver:
    return lambda session, records, run_id: [save(session, record, run_id) for record in records]


@dataclass(frozen=True)
class WarcSettings:
    """Where and how the writer keeps the pages of new versions (storage.warc)."""

    folder: str
    max_bytes: int

    def open(self) -> WarcFiles:
        return WarcFiles(self.folder, max_bytes=self.max_bytes)


def savers(baseline: bool, warc: WarcFiles | None = None) -> dict[str, Saver]:
    """How each kind of submitted record is written, a list at a time; a baseline run records
    no per-article change event. With `warc`, new versions are kept in its WARC files."""
    return {
        "article": partial(archive_articles, baseline=baseline, warc=warc),
        "counter": _one_by_one(save_counter),
        "not_modified": _one_by_one(_confirm_unchanged),
    }


@dataclass(frozen=True)
class Outcome:
    """What became of one submitted item: the saver's answer, or the error that stopped it."""

    kind: str
    url: str
    result: Any = None
    error: str | None = None


Task = tuple[str, dict[str, Any]]


def _next_task(tasks: Queue[Task | None]) -> Task | None:
    """The next item to write; None at the end of the crawl or when the crawl process is gone
    (killed, say), so the writer never outlives it."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            return tasks.get(timeout=1.0)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return None


def _queued_after(first: Task, tasks: Queue[Task | None]) -> tuple[list[Task], bool]:
    """`first` and the items queued behind it within _GATHER_S, up to a batch; and whether the
    end of the crawl was among them (it ends the batch at once)."""
    batch = [first]
    deadline = time.monotonic() + _GATHER_S
    while len(batch) < _BATCH:
        try:
            task = tasks.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if task is None:
            return batch, True
        batch.append(task)
    return batch, False


def _write(
    database: Database,
    save: Saver,
    kind: str,
    records: list[dict[str, Any]],
    run_id: int,
    warc: WarcFiles | None = None,
) -> list[Outcome]:
    """Write records of one kind in one transaction; when that fails, each in its own, so one
    bad record costs only itself and is reported with its own error. The WARC records the
    transaction points at are on disk before it commits."""
    try:
        with database.begin() as session:
            results = save(session, records, run_id)
            if warc is not None:
                warc.sync()
    except Exception as error:  # noqa: BLE001 - reported to the crawl, which logs and counts it
        if len(records) > 1:
            return [
                outcome
                for record in records
                for outcome in _write(database, save, kind, [record], run_id, warc)
            ]
        url = records[0].get("url", "")
        return [Outcome(kind, url, error=f"{type(error).__name__}: {error}")]
    return [
        Outcome(kind, record.get("url", ""), result=result)
        for record, result in zip(records, results, strict=True)
    ]


def _write_until_done(
    database_url: str,
    run_id: int,
    baseline: bool,
    warc_settings: WarcSettings | None,
    tasks: Queue[Task | None],
    outcomes: Queue[Outcome],
) -> None:
    ignore_sigint()  # on Ctrl-C the crawl sends the end of the queue: what is queued is written
    database = open_database(database_url)
    warc = warc_settings.open() if warc_settings is not None else None
    save = savers(baseline, warc)
    finished = False
    while not finished and (first := _next_task(tasks)) is not None:
        batch, finished = _queued_after(first, tasks)
        for kind, group in groupby(batch, key=itemgetter(0)):
            records = [record for _, record in group]
            for outcome in _write(database, save[kind], kind, records, run_id, warc):
                outcomes.put(outcome)
    if warc is not None:
        warc.close()
    database.close()


class ArchiveWriter:
    """Submit items from the crawl; collect what became of them as they are written."""

    def __init__(
        self,
        database_url: str,
        run_id: int,
        baseline: bool = False,
        warc: WarcSettings | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a running reactor
        self.tasks: Queue[Task | None] = context.Queue(_QUEUE_SIZE)
        self.outcomes: Queue[Outcome] = context.Queue()
        self.process = context.Process(
            target=_write_until_done,
            args=(database_url, run_id, baseline, warc, self.tasks, self.outcomes),
            name="coopspider-writer",
            daemon=True,
        )
        with sigint_held_for_children():
            self.process.start()

    def try_submit(self, kind: str, record: dict[str, Any]) -> bool:
        """Queue an item without waiting; False when the queue is full."""
        try:
            self.tasks.put_nowait((kind, record))
        except queue.Full:
            return False
        return True

    def submit(self, kind: str, record: dict[str, Any]) -> bool:
        """Queue an item, waiting while the writer catches up (call from a worker thread);
        False, at once, when the writer process has died."""
        return self._put((kind, record))

    def _put(self, task: Task | None) -> bool:
        while self.process.is_alive():
            try:
                self.tasks.put(task, timeout=1.0)
            except queue.Full:
                continue
            return True
        return False

    @property
    def alive(self) -> bool:
        """Whether the writer process is still there to write what is submitted."""
        return self.process.is_alive()

    def collect(self) -> list[Outcome]:
        """The outcomes written so far and not yet collected."""
        done = []
        while True:
            try:
                done.append(self.outcomes.get_nowait())
            except queue.Empty:
                return done

    def close(self) -> list[Outcome]:
        """Wait until every submitted item is written; the remaining outcomes."""
        if not self._put(None):
            # Nobody reads the queue any more: do not wait at exit to flush it.
            self.tasks.cancel_join_thread()
        done = []
        while self.process.is_alive() or not self.outcomes.empty():
            try:
                done.append(self.outcomes.get(timeout=0.5))
            except queue.Empty:
                continue
        self.process.join()
        return done

    @property
    def failed(self) -> bool:
        """Whether the writer process died instead of finishing its queue."""
        return self.process.exitcode not in (0, None)
