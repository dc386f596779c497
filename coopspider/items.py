"""Items the spider yields; every value is JSON-serialisable so Scrapy feeds export them as is."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ArticleItem:
    """One article page as read in one crawl."""

    url: str  # absolute URL of the article, in the scheme and host of the crawl's base URL
    site: str  # name of the site profile the article belongs to, e.g. "thaibinh"
    article_id: str  # numeric id taken from the article URL, e.g. "1234"
    category: str | None  # category slug taken from the article URL, e.g. "tin-tuc-su-kien"
    title: str  # headline, NFC, single spaces
    published_at: str | None  # ISO 8601 with the +07:00 offset, None when the date did not parse
    published_raw: str | None  # the date text as printed on the page, None when none was found
    author: str | None  # author name without prefixes such as "Theo:", None when absent
    summary: str | None  # lead paragraph, else the page's description meta
    body: str  # article text, lead included; paragraphs separated by one blank line
    images: list[dict[str, str | None]] = field(default_factory=list)  # [{"url", "caption"}]
    fetched_at: str = ""  # ISO 8601 UTC time the page was downloaded


@dataclass
class CounterItem:
    """One reading of the site's visitor counter."""

    site: str  # site profile name, as in ArticleItem.site
    url: str  # page the counter was read from
    observed_at: str  # ISO 8601 UTC time of the reading
    total: int | None  # total visits; None when the page shows no number
    online: int | None  # visitors online now; None when the page shows no number
