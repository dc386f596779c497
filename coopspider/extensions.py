"""Scrapy extensions of the project."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from coopspider.progress import Progress


class CrawlProgress:
    """A live line on the terminal while a crawl runs: pages fetched, articles new and edited.

    Off when stderr is not a terminal (cron, pipes) and when the log shows INFO lines, which
    would break the line up; `coopspider crawl` logs warnings only, so it shows there.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.progress = Progress("crawl")
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        # engine_stopped comes after the store pipeline has counted the last articles written.
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        if not crawler.settings.getbool("COOPSPIDER_PROGRESS", True):
            raise NotConfigured("progress turned off by COOPSPIDER_PROGRESS")
        level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL", "INFO")).upper())
        if isinstance(level, int) and level < logging.WARNING:
            raise NotConfigured("the log shows INFO lines; progress would be torn by them")
        extension = cls(crawler)
        if not extension.progress.enabled:
            raise NotConfigured("stderr is not a terminal")
        return extension

    def response_received(self, **_: Any) -> None:
        self.progress.advance(note=self._articles())

    def engine_stopped(self, **_: Any) -> None:
        self.progress.advance(0, note=self._articles())
        self.progress.finish()

    def _articles(self) -> str:
        new = self.stats.get_value("coopspider/articles/new", 0)
        changed = self.stats.get_value("coopspider/articles/changed", 0)
        return f" pages fetched, {new} new and {changed} edited articles"
