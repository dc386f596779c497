"""Item pipelines, one module per concern, in the order settings.ITEM_PIPELINES gives them."""

from __future__ import annotations

from scrapy import Spider
from scrapy.crawler import Crawler


def running_spider(crawler: Crawler) -> Spider:
    """The crawler's spider: pipelines see items only while it is open."""
    if crawler.spider is None:
        raise RuntimeError("the crawler has no spider: items arrive only during a crawl")
    return crawler.spider
