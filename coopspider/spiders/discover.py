"""The `discover` spider: reads a site the way a crawl does and learns its URL grammar.

Crawling only: it fetches the start page, then whatever `coopspider.discovery.Discovery` asks for
next, one page at a time (the project's politeness, robots.txt and User-Agent apply to every
request), until the discovery is done or the request budget is spent. What was learned is left
on the spider (`conclusion`, or `start_failure` when the start page could not be read) for
`coopspider discover` to print.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

from coopspider.discovery.explore import HOME, Conclusion, Discovery, Visit, failed, read_page
from coopspider.discovery.vocabulary import DiscoverySettings
from coopspider.pages.decoding import looks_binary, page_text
from coopspider.urls import split_login

# One retry: a page that fails twice is reported, and the budget goes to other pages.
_RETRIES = 1


class DiscoverSpider(scrapy.Spider):
    """Learn the URL grammar of the site at `url` (`-a url=... -a max_requests=40`)."""

    name = "discover"
    # Nothing is stored: discovery reads pages, it archives none.
    custom_settings = {
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {"coopspider.extensions.CrawlProgress": None},  # it prints its own lines
    }

    def __init__(
        self,
        url: str,
        max_requests: int | str = DiscoverySettings.max_requests,
        progress: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_requests = int(max_requests)
        # A login in the URL is sent as HTTP Basic authentication to that host only, as the
        # crawl does, and never appears in a URL requested or printed.
        bare_url, login = split_login(url)
        self.login: dict[str, str] = {}
        if login is not None:
            user, password = login
            host = urlsplit(bare_url).netloc
            self.login = {"http_user": user, "http_pass": password, "http_auth_domain": host}
        self.discovery = Discovery(bare_url, DiscoverySettings(max_requests=self.max_requests))
        self.progress = progress or self.logger.info
        self.conclusion: Conclusion | None = None
        self.start_failure: str | None = None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        home = await self._fetch(self.discovery.start_url, HOME, "the start page")
        self.discovery.record(home)
        if not home.is_page:
            self.start_failure = home.failure
            return
        while self._requests() < self.max_requests and (plan := self.discovery.next_request()):
            url, purpose, why = plan
            self.discovery.record(await self._fetch(url, purpose, why))
        self.conclusion = self.discovery.conclusion(self._requests())
        return
        yield  # an async generator that yields nothing: every request goes through download

    def _requests(self) -> int:
        assert self.crawler.stats is not None
        return int(self.crawler.stats.get_value("downloader/request_count", 0))

    async def _fetch(self, url: str, purpose: str, why: str) -> Visit:
        self.progress(f"[{self._requests() + 1}/{self.max_requests}] {why}: {url}")
        meta = {"max_retry_times": _RETRIES, **self.login}
        request = scrapy.Request(url, dont_filter=True, meta=meta)
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as error:
            return failed(url, purpose, str(error) or "refused")
        except Exception as error:  # noqa: BLE001 - any failure of one page is an answer
            return failed(url, purpose, _failure(error))
        return _visit(url, purpose, response)


def _visit(url: str, purpose: str, response: Response) -> Visit:
    if response.status != 200:
        return failed(url, purpose, f"HTTP {response.status}")
    if not isinstance(response, TextResponse) or looks_binary(response.body):
        return failed(url, purpose, "not an HTML page")
    return read_page(url, purpose, response.url, page_text(response))


def _failure(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
