"""Baseline for bench_crawl.py: follows exactly the links `lienminh` follows, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from coopspider.profiles import classify
from coopspider.urls import LinkKind, on_site


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url
        self.article_ids: set[str] = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.xpath("//a/@href").getall():
            url = on_site(response.urljoin(href.strip()), self.base_url)
            if url is None:
                continue
            parsed = classify(url)
            if parsed.kind is LinkKind.LISTING:
                yield scrapy.Request(url)
            elif (
                parsed.kind is LinkKind.ARTICLE
                and parsed.article_id is not None
                and parsed.article_id not in self.article_ids
            ):
                self.article_ids.add(parsed.article_id)
                yield scrapy.Request(url, callback=self.skip)

    def skip(self, response: Response) -> None:
        """Articles are downloaded and dropped: the cost of crawling alone."""
