"""Items the spider yields; every value is JSON-serialisable so Scrapy feeds export them as is,
but for the HTTP exchange of an article page (`capture`), which goes to the WARC files and is
left out of feeds."""

from __future__ import annotations

from dataclasses import dataclass, field

# Longer article ids are not crawled: an id is part of a unique index, which PostgreSQL caps at
# about 2,700 bytes per row (a site name and 500 characters of up to 4 bytes fit). Not a real id
# but a trap or a mistaken URL grammar. The same limit on SQLite: one behaviour on both.
MAX_ARTICLE_ID_CHARS = 500


@dataclass
class HttpCapture:
    """One HTTP exchange as the crawler saw it, for the WARC files (storage.warc)."""

    url: str  # the URL requested
    fetched_at: str  # ISO 8601 UTC time of the answer, the WARC-Date
    status: int  # the HTTP status, e.g. 200 or 404
    request_headers: list[tuple[str, str]]  # as sent (latin-1), a login and cookies left out
    response_headers: list[tuple[str, str]]  # as received (latin-1)
    body: bytes  # the body as the crawler hands it: gzip or chunked transfer already undone
    method: str = "GET"
    protocol: str = "HTTP/1.1"  # of the answer
    ip_address: str | None = None  # of the server that answered


def _not_exported(_capture: HttpCapture | None) -> None:
    """Feeds leave the HTTP exchange out: its body is bytes, and the WARC files keep it."""
    return None


def capture_field() -> HttpCapture | None:
    """The `capture` field of an item: set by the spider when WARC writing is on."""
    return field(default=None, repr=False, compare=False, metadata={"serializer": _not_exported})


@dataclass
class ArticleItem:
    """One article page as read in one crawl."""

    url: str  # absolute URL of the article, in the scheme and host of the crawl's base URL
    site: str  # name of the site profile the article belongs to, e.g. "thaibinh"
    article_id: str  # id taken from the article URL, e.g. "1234"; MAX_ARTICLE_ID_CHARS at most
    category: str | None  # category slug taken from the article URL, e.g. "tin-tuc-su-kien"
    title: str  # headline, NFC, single spaces
    published_at: str | None  # ISO 8601 with the +07:00 offset, None when the date did not parse
    published_raw: str | None  # the date text as printed on the page, None when none was found
    author: str | None  # author name without prefixes such as "Theo:", None when absent
    summary: str | None  # lead paragraph, else the page's description meta
    body: str  # article text, lead included; paragraphs separated by one blank line
    images: list[dict[str, str | None]] = field(default_factory=list)  # [{"url", "caption"}]
    fetched_at: str = ""  # ISO 8601 UTC time the page was downloaded
    etag: str | None = None  # the ETag response header, sent back as If-None-Match next time
    last_modified: str | None = None  # the Last-Modified header, sent back as If-Modified-Since
    capture: HttpCapture | None = capture_field()  # the page as served, for the WARC files


@dataclass
class CounterItem:
    """One reading of the site's visitor counter."""

    site: str  # site profile name, as in ArticleItem.site
    url: str  # page the counter was read from
    observed_at: str  # ISO 8601 UTC time of the reading
    total: int | None  # total visits; None when the page shows no number
    online: int | None  # visitors online now; None when the page shows no number


@dataclass
class ListingItem:
    """One category listing page as read in one crawl: which articles it shows."""

    site: str  # site profile name, as in ArticleItem.site
    url: str  # the listing page
    category: str  # category slug taken from the listing URL
    page: int  # 1 for the category's first page
    article_ids: list[str]  # ids of the category's articles the page links to, in page order
    last_page: bool  # True when the page links to no later page of the category
    # ids of every article the page links to, under any category's URL (an article filed under
    # two categories is often linked with the other one's URL), boxes of latest news included
    linked_ids: list[str] = field(default_factory=list)


@dataclass
class ArticleGoneItem:
    """A known article whose page answered 404 Not Found or 410 Gone."""

    site: str  # site profile name
    url: str  # the URL requested
    article_id: str  # id of the archived article
    status: int  # the HTTP status, 404 or 410
    capture: HttpCapture | None = capture_field()  # the answer as served, for the WARC files


@dataclass
class ArticleNotModifiedItem:
    """A known article whose page answered 304 Not Modified to a conditional request."""

    site: str  # site profile name
    url: str  # the URL requested
    article_id: str  # id of the archived article
    fetched_at: str  # ISO 8601 UTC time of the answer
