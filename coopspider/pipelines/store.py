"""Store articles and counter readings, and record the crawl run with its stats."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy.orm import Session, sessionmaker

from coopspider.items import ArticleItem, CounterItem
from storage import finish_run, open_database, resolve_database_url, save_article, save_counter
from storage import start_run as start_run_record


class StorePipeline:
    """Write each item in its own transaction on one worker thread, off the crawl's event loop.

    One thread keeps writes in order and SQLite free of writer contention; a transaction per item
    means a crash loses at most the item being written, never leaves half of one.
    """

    def __init__(self, crawler: Crawler, database_url: str) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coopspider-store")
        self.factory: sessionmaker[Session] | None = None
        self.run_id: int | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        if not crawler.settings.getbool("COOPSPIDER_STORE_ENABLED", True):
            raise NotConfigured("storage disabled by COOPSPIDER_STORE_ENABLED")
        return cls(crawler, resolve_database_url(crawler.settings.get("DATABASE_URL")))

    async def _in_worker(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def open_spider(self) -> None:
        self.factory = await self._in_worker(open_database, self.database_url)
        spider = self.crawler.spider
        self.run_id = await self._in_worker(
            self._start_run, spider.name, spider.site, spider.base_url
        )
        self.crawler.stats.set_value("coopspider/run_id", self.run_id)

    def _start_run(self, spider_name: str, site: str, base_url: str) -> int:
        assert self.factory is not None
        with self.factory.begin() as session:
            return start_run_record(
                session,
                site=site,
                spider=spider_name,
                base_url=base_url,
                started_at=datetime.now(UTC),
            )

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            outcome = await self._in_worker(self._save, save_article, asdict(item))
            self.crawler.stats.inc_value(f"coopspider/articles/{outcome}")
        elif isinstance(item, CounterItem):
            await self._in_worker(self._save, save_counter, asdict(item))
            self.crawler.stats.inc_value("coopspider/counters/stored")
        return item

    def _save(self, save: Any, record: dict[str, Any]) -> Any:
        assert self.factory is not None and self.run_id is not None
        with self.factory.begin() as session:
            return save(session, record, self.run_id)

    async def spider_closed(self, spider: Any, reason: str) -> None:
        if self.factory is None or self.run_id is None:
            return
        stats = dict(self.crawler.stats.get_stats())
        status = "finished" if reason == "finished" else "failed"
        await self._in_worker(self._finish_run, status, reason, stats)
        self.executor.shutdown(wait=True)

    def _finish_run(self, status: str, reason: str, stats: dict[str, Any]) -> None:
        assert self.factory is not None and self.run_id is not None
        with self.factory.begin() as session:
            finish_run(
                session,
                self.run_id,
                finished_at=datetime.now(UTC),
                status=status,
                finish_reason=reason,
                stats=stats,
            )
