"""A bare spider of no site profile, run with `scrapy runspider` under the project's settings:
it asks for every path given in `-a paths=a,b,c` at once (for the robots.txt tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy


class RobotsProbe(scrapy.Spider):
    name = "robots_probe"

    def __init__(self, base_url: str = "", paths: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = [base_url.rstrip("/") + path for path in paths.split(",") if path]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: scrapy.http.Response) -> None:
        self.logger.info("Fetched %s", response.url)
