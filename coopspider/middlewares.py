"""Downloader middleware: wait longer before each retry of a failing page."""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class RetryBackoffMiddleware:
    """Delay the n-th retry of a request by RETRY_BACKOFF_BASE * 2**(n-1) seconds, at most
    RETRY_BACKOFF_MAX.

    Scrapy's RetryMiddleware reschedules a failed request at once; a small server that answers
    503 because it is overloaded deserves a pause that grows with each failure. Only the retried
    request waits: the rest of the crawl goes on. RETRY_BACKOFF_BASE = 0 turns this off.
    """

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        base = crawler.settings.getfloat("RETRY_BACKOFF_BASE")
        if base <= 0:
            raise NotConfigured("RETRY_BACKOFF_BASE is 0")
        return cls(base, crawler.settings.getfloat("RETRY_BACKOFF_MAX", 300.0))

    async def process_request(self, request: Request) -> None:
        retries = request.meta.get("retry_times", 0)
        if retries:
            await asyncio.sleep(min(self.cap, self.base * 2 ** (retries - 1)))
