"""Normalise article text to NFC with single spaces and dates to ISO 8601 in UTC+7."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler

from coopspider.dates import VIETNAM_TZ, parse_date, to_iso
from coopspider.items import ArticleItem
from coopspider.pipelines import running_spider
from coopspider.text import clean_line, clean_paragraphs

# No web article predates Vietnam's first Internet connection (1997), and none is published after
# it is fetched: such a date is a typo or a placeholder, kept as published_raw only.
EARLIEST_PUBLICATION = datetime(1997, 1, 1, tzinfo=VIETNAM_TZ)
CLOCK_SLACK = timedelta(days=1)


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
        if when is not None and not (
            EARLIEST_PUBLICATION <= when <= datetime.now(UTC) + CLOCK_SLACK
        ):
            self.crawler.stats.inc_value("coopspider/date_implausible")
            running_spider(self.crawler).logger.warning(
                "Implausible publication date on %s: %r read as %s; stored without published_at",
                item.url,
                item.published_raw,
                when.date().isoformat(),
            )
            item.published_at = None
            return
        item.published_at = to_iso(when) if when else None
        if when is None:
            stats = self.crawler.stats
            if item.published_raw:
                stats.inc_value("coopspider/date_unparsed")
                running_spider(self.crawler).logger.warning(
                    "Date not understood on %s: %r", item.url, item.published_raw
                )
            else:
                stats.inc_value("coopspider/date_missing")
                running_spider(self.crawler).logger.warning(
                    "No publication date found on %s", item.url
                )
