"""Scrapy extensions of the project."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import sys
from types import FrameType
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import call_later

from coopspider.exitcodes import EXIT_INTERRUPTED
from coopspider.progress import Progress
from storage import RUN_INTERRUPTED

INTERRUPTED_STAT = "coopspider/interrupted"


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


class Interruption:
    """Ctrl-C (SIGINT) once: stop asking for pages, finish those in flight and their archive
    writes, close the spider with the reason "interrupted" (the run is recorded so), say so in
    one line on stderr and exit 130. Twice: exit 130 at once (the run is then closed as
    abandoned by the next crawl). SIGTERM keeps Scrapy's meaning: a shutdown, a failed run.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.closing: asyncio.Future[None] | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Interruption:
        return cls(crawler)

    def spider_opened(self, **_: Any) -> None:
        # Scrapy installs its own handlers once the reactor has started, which may be after
        # the spider opened: ours goes in on the reactor's next turn, after them.
        call_later(0, signal.signal, signal.SIGINT, self._first)

    def engine_stopped(self, **_: Any) -> None:
        # The crawl is over: Ctrl-C means KeyboardInterrupt again to whoever ran it in-process
        # (a test, a notebook), not a stop request to a crawl that is gone.
        if signal.getsignal(signal.SIGINT) == self._first:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _first(self, signum: int, frame: FrameType | None) -> None:
        from twisted.internet import reactor

        signal.signal(signal.SIGINT, self._again)
        # Only flag-setting is safe in a signal handler: the rest runs on the reactor.
        reactor.callFromThread(self._stop)

    def _stop(self) -> None:
        self.crawler.stats.set_value(INTERRUPTED_STAT, True)
        print(
            "coopspider: interrupted: finishing the pages in flight and their archive writes "
            "(Ctrl-C again to stop at once)",
            file=sys.stderr,
            flush=True,
        )
        atexit.register(_exit_interrupted)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            # The spider closes as with CLOSESPIDER_*: the engine stops when it has closed.
            self.closing = asyncio.ensure_future(engine.close_spider_async(reason=RUN_INTERRUPTED))

    def _again(self, signum: int, frame: FrameType | None) -> None:
        _exit_interrupted()


def _exit_interrupted() -> None:
    """Leave with exit code 130, whatever the code that ran the crawl (Scrapy's `crawl`
    command exits 0 after a shutdown). Registered last, this runs first at exit, after the
    crawl has closed its helper processes."""
    from multiprocessing import util

    # What the exit handlers skipped by os._exit would do: release the queues' semaphores of the
    # helper processes (else the resource tracker warns of leaks), flush the log.
    # No public name does it; this one has been multiprocessing's exit handler since Python 2.6.
    util._exit_function()  # type: ignore[attr-defined]
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)
