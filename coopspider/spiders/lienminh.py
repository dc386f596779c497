"""The `lienminh` spider: home page -> category listings and their pagination -> articles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from coopspider.items import ArticleItem, CounterItem
from coopspider.pages.article import ArticlePage
from coopspider.pages.decoding import page_text
from coopspider.pages.listing import ListingPage
from coopspider.urls import CategoryChoice, LinkKind, classify, host_of, on_site

DEFAULT_BASE_URL = "https://lienminhhtx.thaibinh.gov.vn/"
DEFAULT_SITE = "thaibinh"


def utc_now() -> str:
    """The current time as ISO 8601 UTC, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class LienminhSpider(scrapy.Spider):
    """Crawl one alliance site by its URL grammar.

    Arguments (`-a`): `base_url` (the site root, default the Thái Bình alliance), `site` (the
    name the archive files its articles under; `thaibinh` for the default root, else the host),
    `categories` (comma-separated slugs: walk only these; default all) and `skip_categories`
    (comma-separated slugs never walked). An article is fetched when the path it is linked
    under belongs to a walked category.
    """

    name = "lienminh"

    def __init__(
        self,
        base_url: str | None = None,
        site: str | None = None,
        categories: str | None = None,
        skip_categories: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.categories = CategoryChoice.from_lists(categories, skip_categories)
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/"
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.site = site or (DEFAULT_SITE if base_url is None else host_of(self.base_url))
        self.allowed_domains = [host_of(self.base_url)]
        self.article_ids: set[str] = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url, callback=self.parse_home)

    def parse_home(self, response: Response) -> Iterator[Any]:
        """The home page gives the counter reading of this crawl and the first links."""
        if not isinstance(response, TextResponse):
            self._count_unparsed(response, "not an HTML page")
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
        if isinstance(response, TextResponse):
            yield from self.follow_links(response)

    def follow_links(self, response: TextResponse) -> Iterator[scrapy.Request]:
        """Requests for the listings and the not yet requested articles a page links to."""
        for link in ListingPage(response).links():
            url = on_site(link, self.base_url)
            if url is None:
                continue
            parsed = classify(url)
            if not self.categories.wants(parsed.category):
                continue
            if parsed.kind is LinkKind.LISTING:
                yield scrapy.Request(url, callback=self.parse_listing)
            elif parsed.kind is LinkKind.ARTICLE and parsed.article_id not in self.article_ids:
                # One article can sit under several category paths: the id decides, not the URL.
                self.article_ids.add(parsed.article_id)
                yield scrapy.Request(
                    url,
                    callback=self.parse_article,
                    cb_kwargs={"article_id": parsed.article_id, "category": parsed.category},
                )

    def parse_article(
        self, response: Response, article_id: str, category: str | None
    ) -> Iterator[ArticleItem]:
        if not isinstance(response, TextResponse):
            self._count_unparsed(response, "not an HTML page")
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

    def _count_unparsed(self, response: Response, why: str) -> None:
        self.logger.warning("Page not parsed (%s): %s", why, response.url)
        self.crawler.stats.inc_value("coopspider/pages/unparsed")
