"""Refuse articles that the page object could not read: no title or no body."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from coopspider.items import ArticleItem


class ValidatePipeline:
    """Drop (and count) article items with an empty title or body, so none is ever stored."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            missing = [name for name in ("title", "body") if not getattr(item, name)]
            if missing:
                self.crawler.stats.inc_value("coopspider/pages/unparsed")
                raise DropItem(f"No {' or '.join(missing)} found on {item.url}")
        return item
