"""Normalise article text to NFC with single spaces and dates to ISO 8601 in UTC+7."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from scrapy.crawler import Crawler

from coopspider.dates import parse_date, to_iso
from coopspider.items import ArticleItem
from coopspider.text import clean_line, clean_paragraphs


class NormalisePipeline:
    """Clean every text field; parse `published_raw` when the page object found no date in it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.date_order = crawler.settings.get("DATE_ORDER", "DMY")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        for field in fields(item):
            value = getattr(item, field.name)
            if isinstance(value, str):
                cleaner = clean_paragraphs if field.name == "body" else clean_line
                setattr(item, field.name, cleaner(value) or None)
        item.title = item.title or ""
        item.body = item.body or ""
        item.images = [
            {
                "url": clean_line(image["url"] or ""),
                "caption": clean_line(image["caption"] or "") or None,
            }
            for image in item.images
        ]
        self._normalise_date(item)
        return item

    def _normalise_date(self, item: ArticleItem) -> None:
        when = parse_date(item.published_at) if item.published_at else None
        if when is None and item.published_raw:
            when = parse_date(item.published_raw, order=self.date_order)
        item.published_at = to_iso(when) if when else None
        if when is None:
            stats = self.crawler.stats
            if item.published_raw:
                stats.inc_value("coopspider/date_unparsed")
                self.crawler.spider.logger.warning(
                    "Date not understood on %s: %r", item.url, item.published_raw
                )
            else:
                stats.inc_value("coopspider/date_missing")
                self.crawler.spider.logger.warning("No publication date found on %s", item.url)
