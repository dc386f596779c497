"""The `lienminh` spider: home page -> category listings and their pagination -> articles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from coopspider.items import ArticleItem, CounterItem
from coopspider.pages.article import ArticlePage
from coopspider.pages.decoding import looks_binary, page_text
from coopspider.pages.listing import ListingPage
from coopspider.urls import LinkKind, classify, host_of, on_site

DEFAULT_BASE_URL = "https://lienminhhtx.thaibinh.gov.vn/"
DEFAULT_SITE = "thaibinh"


# Why a request failed, as named in the stats key coopspider/fetch_failed/{reason}.
_FAILURE_REASONS: list[tuple[type[BaseException], str]] = [
    (DownloadTimeoutError, "timeout"),
    (DownloadFailedError, "connection"),  # reset or dropped before a whole answer
    (DownloadConnectionRefusedError, "connection_refused"),
    (CannotResolveHostError, "dns"),
    (ResponseDataLossError, "data_loss"),  # body shorter than its Content-Length
    (DownloadCancelledError, "too_large"),  # DOWNLOAD_MAXSIZE, size announced
    (CancelledError, "too_large"),  # DOWNLOAD_MAXSIZE, size found while reading
    (IgnoreRequest, "ignored"),  # redirect loop, offsite redirect, robots.txt
]


def utc_now() -> str:
    """The current time as ISO 8601 UTC, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class LienminhSpider(scrapy.Spider):
    """Crawl one alliance site by its URL grammar.

    Arguments (`-a`): `base_url` (the site root, default the Thái Bình alliance), `site` (the
    name the archive files its articles under; `thaibinh` for the default root, else the host).
    """

    name = "lienminh"

    def __init__(self, base_url: str | None = None, site: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/"
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.site = site or (DEFAULT_SITE if base_url is None else host_of(self.base_url))
        self.allowed_domains = [host_of(self.base_url)]
        self.article_ids: set[str] = set()
        self.skipped_listings: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> LienminhSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._redirected_offsite, signal=signals.request_scheduled)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url, callback=self.parse_home, errback=self.fetch_failed)

    def parse_home(self, response: Response) -> Iterator[Any]:
        """The home page gives the counter reading of this crawl and the first links."""
        if not self._is_page(response):
            return
        counter = ArticlePage(response.url, page_text(response)).counter()
        yield CounterItem(
            site=self.site,
            url=response.url,
            observed_at=utc_now(),
            total=counter.total,
            online=counter.online,
        )
        yield from self.follow_links(response)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if self._is_page(response):
            yield from self.follow_links(response)

    def follow_links(self, response: TextResponse) -> Iterator[scrapy.Request]:
        """Requests for the listings and the not yet requested articles a page links to."""
        for link in ListingPage(response).links():
            url = on_site(link, self.base_url)
            if url is None:
                continue
            parsed = classify(url)
            if parsed.kind is LinkKind.LISTING:
                if parsed.page > self.settings.getint("COOPSPIDER_MAX_LISTING_PAGE"):
                    self._skip_listing(url)
                    continue
                # A query string that names no other page (session ids, tracking, a trap making
                # endless variants) is dropped; then pagination cycles end in Scrapy's duplicate
                # filter: each listing page is fetched once.
                bare = urlunsplit(urlsplit(url)._replace(query=""))
                if classify(bare) == parsed:
                    url = bare
                yield scrapy.Request(url, callback=self.parse_listing, errback=self.fetch_failed)
            elif parsed.kind is LinkKind.ARTICLE and parsed.article_id not in self.article_ids:
                # One article can sit under several category paths: the id decides, not the URL.
                self.article_ids.add(parsed.article_id)
                yield scrapy.Request(
                    url,
                    callback=self.parse_article,
                    errback=self.fetch_failed,
                    cb_kwargs={"article_id": parsed.article_id, "category": parsed.category},
                )

    def _skip_listing(self, url: str) -> None:
        if url in self.skipped_listings:
            return
        self.skipped_listings.add(url)
        self.crawler.stats.inc_value("coopspider/listing/beyond_max_page")
        self.logger.warning(
            "Listing page beyond COOPSPIDER_MAX_LISTING_PAGE, not followed: %s", url
        )

    def parse_article(
        self, response: Response, article_id: str, category: str | None
    ) -> Iterator[ArticleItem]:
        if not self._is_page(response):
            return
        try:
            page = ArticlePage(response.url, page_text(response))
            item = page.item(
                site=self.site, article_id=article_id, category=category, fetched_at=utc_now()
            )
        except Exception as error:  # noqa: BLE001 - one odd page must never stop the crawl
            self.logger.exception("Extraction failed on %s: %s", response.url, error)
            self._count_unparsed(response, "extraction error")
            return
        yield item

    def fetch_failed(self, failure: Failure) -> None:
        """A request that failed for good (after its retries): logged and counted.

        Nothing is stored for it, so what the archive holds of the page stays as it was, and the
        next crawl asks for it again.
        """
        reason = next(
            (name for kind, name in _FAILURE_REASONS if failure.check(kind)),
            type(failure.value).__name__,
        )
        if failure.check(HttpError):
            reason = f"http_{failure.value.response.status}"
        self.crawler.stats.inc_value("coopspider/fetch_failed")
        self.crawler.stats.inc_value(f"coopspider/fetch_failed/{reason}")
        self.logger.warning("Not fetched (%s): %s", reason, failure.request.url)

    def _redirected_offsite(self, request: scrapy.Request, spider: scrapy.Spider) -> None:
        """Log and count a redirect to another host, which Scrapy's offsite filter then drops
        without calling the request's errback."""
        redirected_from = request.meta.get("redirect_urls")
        host = (urlsplit(request.url).hostname or "").lower()
        on_allowed_host = any(host == d or host.endswith(f".{d}") for d in self.allowed_domains)
        if redirected_from and not on_allowed_host:
            self.crawler.stats.inc_value("coopspider/fetch_failed")
            self.crawler.stats.inc_value("coopspider/fetch_failed/offsite_redirect")
            self.logger.warning(
                "Not fetched (offsite_redirect): %s redirects to %s",
                redirected_from[0],
                request.url,
            )

    def _is_page(self, response: Response) -> bool:
        """Whether the response is a readable HTML page; a file behind a page URL (an image, a
        PDF, served with or without an HTML content type) is logged and counted instead."""
        if isinstance(response, TextResponse) and not looks_binary(response.body):
            if len(response.body) > self.settings.getint("DOWNLOAD_WARNSIZE"):
                self.crawler.stats.inc_value("coopspider/pages/over_warnsize")
            return True
        self.crawler.stats.inc_value("coopspider/pages/not_html")
        self._count_unparsed(response, "not an HTML page")
        return False

    def _count_unparsed(self, response: Response, why: str) -> None:
        self.logger.warning("Page not parsed (%s): %s", why, response.url)
        self.crawler.stats.inc_value("coopspider/pages/unparsed")
