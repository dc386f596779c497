"""Downloader middleware: wait longer before each retry of a failing page; stop redirect loops."""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from w3lib.url import canonicalize_url, safe_url_string

# The statuses Scrapy's RedirectMiddleware follows.
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already in its own chain of redirects."""


class RedirectLoopMiddleware:
    """Stop a redirect that leads back to a URL of its own chain, as the failure RedirectLoop.

    Scrapy's RedirectMiddleware follows it, and the scheduler's duplicate filter then drops the
    request without a word: no errback, no log line, no count. Raised here, before the redirect
    is followed, it reaches the request's errback like any other failure. Redirects to URLs
    never visited in the chain are left to REDIRECT_MAX_TIMES.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLoopMiddleware:
        if not crawler.settings.getbool("REDIRECT_ENABLED"):
            raise NotConfigured("REDIRECT_ENABLED is off")
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in _REDIRECTS or not location or request.meta.get("dont_redirect"):
            return response
        if response.status in request.meta.get("handle_httpstatus_list", ()):
            return response
        target = urljoin(request.url, safe_url_string(location))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if canonicalize_url(target) in {canonicalize_url(url) for url in chain}:
            hops = " -> ".join([*chain, target])
            raise RedirectLoop(f"redirect loop {hops}")
        return response
