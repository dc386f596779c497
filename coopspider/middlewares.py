"""Downloader middlewares: obey robots.txt for every request; never leave the site; wait longer
before each retry of a failing page; stop redirect loops."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urljoin

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred
from w3lib.url import canonicalize_url, safe_url_string

from coopspider.urls import same_site

logger = logging.getLogger(__name__)

# The statuses Scrapy's RedirectMiddleware follows.
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class ForbiddenByRobots(IgnoreRequest):
    """A request robots.txt disallows: the site's choice, not a failure to fetch."""


class RobotsTxtGuardMiddleware:
    """Hold every request of a site until its robots.txt is parsed; refuse the disallowed ones.

    In place of Scrapy's RobotsTxtMiddleware, whose requests waiting on a robots.txt download
    that another request started may go through unchecked (they share one Deferred, and the
    later ones see no parser, which means allowed). Here each waiting request gets its own
    Deferred, fired with the parser (or None when robots.txt could not be had: crawl as if there
    were none, Scrapy's behaviour). Works for every spider, on ROBOTSTXT_OBEY. A refused request
    is counted (coopspider/robots/forbidden, and robotstxt/forbidden as Scrapy counts it) and
    logged; its errback gets ForbiddenByRobots. The robots.txt stats are Scrapy's.
    """

    DOWNLOAD_PRIORITY = 1000  # robots.txt goes before everything the crawl has queued

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.user_agent: str = settings.get("ROBOTSTXT_USER_AGENT") or settings["USER_AGENT"]
        self.parser_class: type[RobotParser] = load_object(settings["ROBOTSTXT_PARSER"])
        # Per scheme://host:port: its parser (None: no robots.txt to obey), once known.
        self.parsers: dict[str, RobotParser | None] = {}
        self.waiting: dict[str, list[Deferred[RobotParser | None]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtGuardMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off")
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt") or not request.url.startswith("http"):
            return
        parser = await self._parser(request)
        if parser is None or parser.allowed(request.url, self.user_agent):
            return
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("coopspider/robots/forbidden")
        stats.inc_value("robotstxt/forbidden")
        logger.warning("Forbidden by robots.txt, not fetched: %s", request.url)
        raise ForbiddenByRobots(f"Forbidden by robots.txt: {request.url}")

    async def _parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        site = f"{url.scheme}://{url.netloc}"
        if site in self.parsers:
            return self.parsers[site]
        ready: Deferred[RobotParser | None] = Deferred()
        if site in self.waiting:
            self.waiting[site].append(ready)
        else:
            self.waiting[site] = [ready]
            self._fetch(site)
        return await maybe_deferred_to_future(ready)

    def _fetch(self, site: str) -> None:
        async def fetch() -> None:
            parser = await self._download(site)
            self.parsers[site] = parser
            for waiter in self.waiting.pop(site):
                waiter.callback(parser)

        # Started apart from the request that asked, so no waiter owns it.
        deferred_from_coro(fetch())

    async def _download(self, site: str) -> RobotParser | None:
        stats = self.crawler.stats
        assert stats is not None and self.crawler.engine is not None
        robots = Request(
            f"{site}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots)
        except Exception as error:  # noqa: BLE001 - any failure: crawl as if there were none
            if not isinstance(error, IgnoreRequest):
                stats.inc_value(f"robotstxt/exception_count/{type(error)}")
                logger.error("Error downloading %s: %s", robots.url, error)
            return None
        stats.inc_value("robotstxt/response_count")
        stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        return build_from_crawler(self.parser_class, self.crawler, response.body)


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
        # Scrapy's documented way to change the offsite policy is this method; the filtering,
        # `dont_filter`, `allow_offsite` and the offsite/* stats stay Scrapy's. Its own host
        # checks do not fit the site as we define it, so the test is ours (`same_site`): the
        # host regex (`get_host_regex`) and `scrapy.utils.url.url_is_from_any_domain` take
        # `cdn.a.vn` as on `a.vn`'s site; the regex ignores the port (`a.vn:8081` would pass);
        # `url_is_from_any_domain` compares the whole netloc, so `https://a.vn:443/` and
        # `http://user@a.vn/` are off `a.vn`, and `a.vn` is off a base URL `www.a.vn`.
        base_url = getattr(spider, "base_url", None)
        if base_url is None:
            return super().should_follow(request, spider)
        return same_site(request.url, base_url)

    # Scrapy no longer passes `spider`; the base class keeps it only for older callers.
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
