"""The URL grammar of the Thái Bình alliance's platform: which URL is a listing, which an article.

Pure functions on URLs. The spider follows links by this grammar, never by page markup, so a
redesign of the site's HTML does not change what is crawled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit, urlunsplit

_CATEGORY_FIRST_PAGE = re.compile(r"^/(?P<category>[A-Za-z0-9-]+?)-(?P<category_id>\d+)\.html?$")
_CATEGORY_PAGE = re.compile(r"^/(?P<category>[A-Za-z0-9-]+)/page-(?P<page>\d+)\.html?$")
_ARTICLE = re.compile(r"^/(?P<category>[A-Za-z0-9-]+)/(?P<slug>[A-Za-z0-9-]*?)-(?P<id>\d+)\.html?$")
_OLD_ARTICLE = re.compile(r"^/Tin-Tuc/(?P<category>[^/]+)/(?P<id>\d+)_(?P<slug>[^/]+)$", re.I)


class LinkKind(Enum):
    """What a URL points at, by the grammar."""

    LISTING = "listing"
    ARTICLE = "article"
    OTHER = "other"


@dataclass(frozen=True)
class ParsedUrl:
    """A URL classified by the grammar."""

    kind: LinkKind
    category: str | None = None
    article_id: str | None = None
    page: int = 1


def classify(url: str) -> ParsedUrl:
    """Classify an absolute or root-relative URL by its path alone."""
    path = urlsplit(url).path
    # `/{cat}/page-2.htm` also fits the article pattern: pagination has to be tried first.
    if match := _CATEGORY_PAGE.match(path):
        return ParsedUrl(LinkKind.LISTING, match["category"], page=int(match["page"]))
    if match := _ARTICLE.match(path):
        return ParsedUrl(LinkKind.ARTICLE, match["category"], match["id"])
    if match := _OLD_ARTICLE.match(path):
        return ParsedUrl(LinkKind.ARTICLE, match["category"], match["id"])
    if match := _CATEGORY_FIRST_PAGE.match(path):
        return ParsedUrl(LinkKind.LISTING, match["category"])
    return ParsedUrl(LinkKind.OTHER)


@dataclass(frozen=True)
class CategoryChoice:
    """Which categories a crawl walks: `follow` (empty: all) minus `skip`; slugs, any case."""

    follow: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()

    @classmethod
    def from_lists(cls, follow: str | None, skip: str | None) -> CategoryChoice:
        """From comma-separated slugs, as spider arguments give them."""

        def slugs(text: str | None) -> frozenset[str]:
            parts = (part.strip().lower() for part in (text or "").split(","))
            return frozenset(part for part in parts if part)

        return cls(slugs(follow), slugs(skip))

    def wants(self, category: str | None) -> bool:
        """Whether links under `category` (a listing's, or an article's path) are followed."""
        slug = (category or "").lower()
        return (not self.follow or slug in self.follow) and slug not in self.skip


def host_of(url: str) -> str:
    """Host name without port and without a leading `www.`, lower case."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def on_site(url: str, base_url: str) -> str | None:
    """`url` rewritten to the base URL's scheme and host, or None when it is on another host.

    The site answers on http and https alike; rewriting both to one form makes them one request
    fingerprint, so a page linked both ways is fetched once. Fragments are dropped.
    """
    parts = urlsplit(url)
    base = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or host_of(url) != host_of(base_url):
        return None
    if parts.port is not None and parts.port not in (base.port, 80, 443):
        return None
    return urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, ""))
