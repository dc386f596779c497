"""Store articles and counter readings, record the crawl run with its stats, and the changes the
run found: per article as it is written, removals and anomalies once the run has finished."""

from __future__ import annotations

import asyncio
import os
import socket
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from coopspider.config import archive_problem
from coopspider.exitcodes import EXIT_LOCKED, refuse_to_start
from coopspider.items import (
    ArticleGoneItem,
    ArticleItem,
    ArticleNotModifiedItem,
    CounterItem,
    ListingItem,
)
from coopspider.pipelines import running_spider
from coopspider.pipelines.writer import ArchiveWriter, Outcome, WarcSettings
from storage import (
    Database,
    GoneSeen,
    ListingSeen,
    LockHeld,
    archive_lock,
    check_writable,
    close_abandoned_runs,
    finish_run,
    finish_tracking,
    is_baseline_run,
    open_database,
    owner_of,
    resolve_database_url,
    run_owner,
)
from storage import start_run as start_run_record
from storage.models import CrawlRun
from storage.warc import check_folder

if TYPE_CHECKING:
    from coopspider.spiders.lienminh import LienminhSpider

# A run started on another machine cannot be checked for life: it is taken as abandoned when it
# has shown "running" for longer than any crawl lasts.
FOREIGN_RUN_ABANDONED_AFTER = timedelta(hours=24)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def is_abandoned(run: CrawlRun, now: datetime) -> bool:
    """Whether a run shown as running has no live crawl behind it: its process on this machine
    is gone, or (another machine's run) it started more than a day ago."""
    host, pid = owner_of(run)
    if host == socket.gethostname() and isinstance(pid, int):
        return not _process_alive(pid)
    return now - run.started_at > FOREIGN_RUN_ABANDONED_AFTER


def site_lock_name(site: str) -> str:
    """The name of the archive lock a crawl of `site` holds."""
    return f"crawl-{site}"


def warc_settings(settings: Any) -> WarcSettings | None:
    """Where the crawl keeps WARC files (WARC_DIR, WARC_MAX_BYTES); None when WARC_ENABLED is
    off."""
    if not settings.getbool("WARC_ENABLED", True):
        return None
    folder, max_bytes = settings.get("WARC_DIR"), settings.getint("WARC_MAX_BYTES")
    if not folder:
        raise ValueError("WARC_DIR is empty: name a folder, or turn WARC off with WARC_ENABLED=0")
    if max_bytes <= 0:
        raise ValueError(f"WARC_MAX_BYTES must be above 0, got {max_bytes}")
    return WarcSettings(folder, max_bytes)


# What the writer process is handed, by item class.
_WRITTEN = {ArticleItem: "article", CounterItem: "counter", ArticleNotModifiedItem: "not_modified"}

_COLLECT_EVERY = 32
# Set when the run is recorded as failed because the site's home page could not be read.
HOME_PAGE_UNREAD_STAT = "coopspider/home/unread"


class StorePipeline:
    """Hand items to the archive writer process and count what it made of them.

    The run row is written here, before the first item and after the last one, so a run that
    shows "finished" has all its items in the archive. Listing pages and 404/410 answers are kept
    until the end: only a run that finished may conclude that an article was removed.
    """

    def __init__(
        self,
        crawler: Crawler,
        database_url: str,
        frozen_runs: int,
        warc: WarcSettings | None = None,
    ) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.frozen_runs = frozen_runs
        self.warc = warc
        self.writer: ArchiveWriter | None = None
        self.database: Database | None = None
        self.run_id: int | None = None
        self.baseline = False
        self.listings: list[ListingSeen] = []
        self.gone: list[GoneSeen] = []
        self.submitted = 0
        self.stopping: asyncio.Task[None] | None = None
        self.site_lock = ExitStack()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        if not crawler.settings.getbool("COOPSPIDER_STORE_ENABLED", True):
            raise NotConfigured("storage disabled by COOPSPIDER_STORE_ENABLED")
        frozen_runs = crawler.settings.getint("COUNTER_FROZEN_RUNS", 3)
        if frozen_runs < 2:
            raise ValueError(f"COUNTER_FROZEN_RUNS must be at least 2, got {frozen_runs}")
        database_url = resolve_database_url(crawler.settings.get("DATABASE_URL"))
        return cls(crawler, database_url, frozen_runs, warc_settings(crawler.settings))

    async def open_spider(self) -> None:
        # Only the lienminh spider stores (the discover spider runs no pipelines).
        spider = cast("LienminhSpider", running_spider(self.crawler))
        # Scrapyd passes `_job` to the spiders it runs. A node names its archive in its own
        # environment: Scrapyd keeps a job's settings in its queue and Scrapy logs them.
        if getattr(spider, "_job", None) and self.crawler.settings.get("DATABASE_URL"):
            refuse_to_start(
                "a Scrapyd job takes its archive from the node's COOPSPIDER_DATABASE_URL, "
                "not from a DATABASE_URL job setting (Scrapyd keeps and logs job settings)"
            )
        # Opening applies migrations on first use, before the writer process opens its own engine.
        try:
            self.database = await asyncio.to_thread(open_database, self.database_url)
            await asyncio.to_thread(check_writable, self.database)
        except Exception as error:
            problem = archive_problem(self.database_url, error)
            if problem is None:
                raise
            refuse_to_start(problem)
        if self.warc is not None:
            try:
                await asyncio.to_thread(check_folder, self.warc.folder)
            except OSError as error:
                refuse_to_start(
                    f"cannot write WARC files to {self.warc.folder}: {error.strerror or error} "
                    "(set WARC_DIR, [warc] dir, or turn WARC off with WARC_ENABLED=0)"
                )
        try:
            await asyncio.to_thread(self._lock_site, spider.site)
        except LockHeld as held:
            refuse_to_start(
                f"another crawl of site {spider.site} is running (it holds the lock {held})",
                EXIT_LOCKED,
            )
        await asyncio.to_thread(self._close_abandoned_runs, spider.site)
        run_id, self.baseline = await asyncio.to_thread(
            self._start_run, spider.name, spider.site, spider.base_url
        )
        self.run_id = run_id
        self.crawler.stats.set_value("coopspider/run_id", run_id)
        if self.baseline:
            self.crawler.stats.set_value("coopspider/baseline", True)
        self.writer = ArchiveWriter(self.database_url, run_id, self.baseline, self.warc)

    def _lock_site(self, site: str) -> None:
        """Take the site's lock, held until the run is closed (spider_closed): two crawls of one
        site at once, on one machine or several, would each take the other's articles for
        removed. The pipeline holds it, not the writer process: the run is recorded here,
        before the writer starts and after it has stopped."""
        assert self.database is not None
        self.site_lock.enter_context(archive_lock(self.database, site_lock_name(site)))

    def _close_abandoned_runs(self, site: str) -> None:
        """Close the runs of this site that a killed crawl left "running", so the run history
        (and the health alerts reading it) shows them as failed."""
        assert self.database is not None
        now = datetime.now(UTC)
        with self.database.begin() as session:
            closed = close_abandoned_runs(
                session, site, is_abandoned=lambda run: is_abandoned(run, now), closed_at=now
            )
            for run in closed:
                self.crawler.stats.inc_value("coopspider/runs/abandoned")
                running_spider(self.crawler).logger.warning(
                    "Crawl run %d of site %s, started %s, was left running by a crawl that is "
                    "gone: marked failed (abandoned)",
                    run.id,
                    site,
                    run.started_at.isoformat(timespec="seconds"),
                )

    def _start_run(self, spider_name: str, site: str, base_url: str) -> tuple[int, bool]:
        assert self.database is not None
        owner = run_owner(socket.gethostname(), os.getpid())
        for key, value in owner.items():
            self.crawler.stats.set_value(key, value)
        with self.database.begin() as session:
            run_id = start_run_record(
                session,
                site=site,
                spider=spider_name,
                base_url=base_url,
                started_at=datetime.now(UTC),
                owner=owner,
            )
            return run_id, is_baseline_run(session, site, run_id)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ListingItem):
            self.listings.append(
                ListingSeen(
                    item.category,
                    item.page,
                    frozenset(item.article_ids),
                    item.last_page,
                    frozenset(item.linked_ids),
                )
            )
        elif isinstance(item, ArticleGoneItem):
            capture = asdict(item.capture) if item.capture is not None else None
            self.gone.append(GoneSeen(item.article_id, item.status, capture))
        elif (kind := _WRITTEN.get(type(item))) is not None:
            assert self.writer is not None
            record = asdict(item)
            submitted = self.writer.try_submit(kind, record) or await asyncio.to_thread(
                self.writer.submit, kind, record
            )
            self.submitted += 1
            # Reading the outcome queue takes its lock: doing it for every item cost a good part
            # of the crawl's CPU. The stats are counted in batches and in full at the end.
            if self.submitted % _COLLECT_EVERY == 0:
                self._count(self.writer.collect())
            if not submitted or not self.writer.alive:
                self._stop_without_writer()
                raise DropItem(f"Not stored, the archive writer is gone: {record['url']}")
        return item

    def _stop_without_writer(self) -> None:
        """The writer process died (killed, out of memory): nothing more can be stored, so the
        crawl stops and its run is recorded as failed; the next crawl fetches what is missing."""
        if self.stopping is not None:
            return
        running_spider(self.crawler).logger.error(
            "The archive writer process died (exit code %s): stopping the crawl",
            self.writer.process.exitcode if self.writer else None,
        )
        # Not awaited here: closing waits for the item pipelines, this one included.
        self.stopping = asyncio.ensure_future(
            self.crawler.engine.close_spider_async(reason="archive_writer_died")
        )

    def _count(self, outcomes: list[Outcome]) -> None:
        stats = self.crawler.stats
        for outcome in outcomes:
            if outcome.error:
                stats.inc_value("coopspider/store/errors")
                running_spider(self.crawler).logger.error(
                    "Not stored: %s (%s)", outcome.url, outcome.error
                )
            elif outcome.kind == "counter":
                stats.inc_value("coopspider/counters/stored")
            elif outcome.result is not None:
                stats.inc_value(f"coopspider/articles/{outcome.result}")

    async def spider_closed(self, spider: LienminhSpider, reason: str) -> None:
        try:
            await self._close_run(spider, reason)
        finally:
            self.site_lock.close()

    async def _close_run(self, spider: LienminhSpider, reason: str) -> None:
        if self.writer is None or self.run_id is None:
            return
        self._count(await asyncio.to_thread(self.writer.close))
        if self.writer.failed:
            self.crawler.stats.inc_value("coopspider/store/errors")
            spider.logger.error("The archive writer stopped before writing every item")
        failed = reason != "finished" or self.writer.failed
        if not failed and not self.crawler.stats.get_value("coopspider/counters/stored"):
            # Every crawl that reads the home page stores its counter reading. Without it the
            # site was down or unreadable: such a run must not pass for a baseline or for a
            # listing that lost its articles.
            spider.logger.error("The home page of %s could not be read", spider.base_url)
            failed, reason = True, "home_page_unread"
            self.crawler.stats.set_value(HOME_PAGE_UNREAD_STAT, True)
        await asyncio.to_thread(self._finish_run, spider.site, failed, reason)

    def _finish_run(self, site: str, failed: bool, reason: str) -> None:
        """Close the run; a finished one also records its end-of-run events, in the same
        transaction, so the run's status and its removals never disagree."""
        assert self.database is not None and self.run_id is not None
        stats = self.crawler.stats
        # The 404/410 answers of removals go to WARC files of this process (the writer's are
        # closed by now); none is made when nothing was removed.
        warc = self.warc.open() if self.warc is not None else None
        with self.database.begin() as session:
            if not failed:
                recorded = finish_tracking(
                    session,
                    site=site,
                    run_id=self.run_id,
                    listings=self.listings,
                    gone=self.gone,
                    baseline=self.baseline,
                    frozen_runs=self.frozen_runs,
                    warc=warc,
                )
                for kind, count in recorded.items():
                    stats.set_value(f"coopspider/events/{kind}", count)
                if warc is not None:
                    warc.close()  # on disk before the events pointing at it are committed
            finish_run(
                session,
                self.run_id,
                finished_at=datetime.now(UTC),
                status="failed" if failed else "finished",
                finish_reason=reason,
                stats=dict(stats.get_stats()),
            )
        self.database.close()
