"""The `lienminh` spider: home page -> category listings and their pagination -> articles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse

from coopspider.extraction import Extractor, default_processes
from coopspider.items import ArticleItem, CounterItem
from coopspider.pages.article import ArticlePage
from coopspider.pages.decoding import page_text
from coopspider.pages.listing import ListingPage
from coopspider.profiles import SiteProfile, load_profiles, resolve_site
from coopspider.urls import LinkKind, host_of, on_site


def utc_now() -> str:
    """The current time as ISO 8601 UTC, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class LienminhSpider(scrapy.Spider):
    """Crawl one alliance site by its site profile's URL grammar.

    Arguments (`-a`): `site` (a site profile, default thaibinh; a new name with a `base_url`
    files a new site under that name), `base_url` (the site root, default the profile's),
    `profile` (the profile whose grammar a new site uses). The `SITE_PROFILES` setting holds the
    user's `[sites.NAME]` tables.
    """

    name = "lienminh"

    def __init__(
        self,
        base_url: str | None = None,
        site: str | None = None,
        profile: str | None = None,
        profiles: dict[str, SiteProfile] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.profile = resolve_site(profiles or load_profiles(), site, base_url, profile)
        self.base_url = self.profile.base_url
        self.site = self.profile.name
        self.allowed_domains = [host_of(self.base_url)]
        self.article_ids: set[str] = set()
        self.extractor: Extractor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> LienminhSpider:
        kwargs["profiles"] = load_profiles(crawler.settings.getdict("SITE_PROFILES"))
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Spider priority: the profile beats the project defaults, a -s on the command line wins.
        crawler.settings.update(spider.profile.settings(), priority="spider")
        processes = crawler.settings.get("COOPSPIDER_EXTRACT_PROCESSES")
        spider.extractor = Extractor(
            default_processes() if processes in (None, "") else int(processes)
        )
        crawler.signals.connect(spider.close_extractor, signal=signals.spider_closed)
        return spider

    async def close_extractor(self) -> None:
        if self.extractor is not None:
            await asyncio.to_thread(self.extractor.close)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url, callback=self.parse_home)

    def parse_home(self, response: Response) -> Iterator[Any]:
        """The home page gives the counter reading of this crawl and the first links."""
        if not isinstance(response, TextResponse):
            self._count_unparsed(response, "not an HTML page")
            return
        counter = ArticlePage(response.url, page_text(response), profile=self.profile).counter()
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
        for link, parsed in ListingPage(response, self.profile.grammar).classified_links():
            url = on_site(link, self.base_url)
            if url is None or not self.profile.follows_category(parsed.category):
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

    async def parse_article(
        self, response: Response, article_id: str, category: str | None
    ) -> AsyncIterator[ArticleItem]:
        if not isinstance(response, TextResponse):
            self._count_unparsed(response, "not an HTML page")
            return
        assert self.extractor is not None
        try:
            item = await self.extractor.article(
                response.url,
                page_text(response),
                date_order=self.settings.get("DATE_ORDER", "DMY"),
                profile=self.profile,
                site=self.site,
                article_id=article_id,
                category=category,
                fetched_at=utc_now(),
            )
        except Exception as error:  # noqa: BLE001 - one odd page must never stop the crawl
            self.logger.exception("Extraction failed on %s: %s", response.url, error)
            self._count_unparsed(response, "extraction error")
            return
        yield item

    def _count_unparsed(self, response: Response, why: str) -> None:
        self.logger.warning("Page not parsed (%s): %s", why, response.url)
        self.crawler.stats.inc_value("coopspider/pages/unparsed")
