"""Downloader middlewares: wait longer before each retry of a failing page; never leave the
site."""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured

from coopspider.urls import same_site

logger = logging.getLogger(__name__)


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


class SiteOnlyMiddleware(OffsiteMiddleware):
    """Scrapy's offsite filter, with the site the crawl's base URL names: its host and port.

    Scrapy's own policy follows every subdomain of the allowed domains and any port; ours lets
    through only the spider's `base_url` site (see `coopspider.urls.same_site`), so a redirect to
    another port of the host or to a subdomain is not followed and its content never archived.
    A spider without a `base_url` keeps Scrapy's policy. Every request refused is logged and
    counted (coopspider/offsite, and coopspider/fetch_failed/offsite_redirect for redirects).
    """

    def should_follow(self, request: Request, spider: Spider) -> bool:
        base_url = getattr(spider, "base_url", None)
        if base_url is None:
            return super().should_follow(request, spider)
        return same_site(request.url, base_url)

    def process_request(self, request: Request) -> None:  # type: ignore[override]
        try:
            super().process_request(request)
        except IgnoreRequest:
            self._count(request)
            raise

    def _count(self, request: Request) -> None:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("coopspider/offsite")
        redirected_from = request.meta.get("redirect_urls")
        if redirected_from:
            # Dropped when scheduled, the request's errback never runs: counted as a failure here.
            stats.inc_value("coopspider/fetch_failed")
            stats.inc_value("coopspider/fetch_failed/offsite_redirect")
            logger.warning(
                "Not fetched (offsite_redirect): %s redirects to %s",
                redirected_from[0],
                request.url,
            )
        else:
            logger.warning("Not fetched (offsite): %s", request.url)
