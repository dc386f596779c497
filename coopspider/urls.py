"""URL grammars: which URL of a site is a listing, which an article, which neither.

Pure functions on URLs. The spider follows links by its site profile's grammar, never by page
markup, so a redesign of a site's HTML does not change what is crawled. The patterns themselves
are data (`coopspider/profiles.toml`); this module is the one place that applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from urllib.parse import unquote, urlsplit, urlunsplit


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


@dataclass(frozen=True)
class UrlGrammar:
    """A platform's URL forms as regular expressions with named groups.

    `article` patterns need an `id` group and may have a `category` group; `pagination` patterns
    need a `page` group (the page number) or an `offset` group (the position of the page's first
    item, as in `?start=20`; with `items_per_page` it gives the page number); `listing` patterns
    (first listing pages) may have a `category` group.
    Patterns must match the whole percent-decoded path, or the path plus `?query` when the URL has
    one. Pagination is tried first, then articles, then listings, since on many platforms a page
    URL (`/{cat}/page-2.htm`) also fits the article form. `article_links` and `listing_links` are
    optional CSS or XPath selectors: when set, links of that kind are taken only from the elements
    they match (the listing page object applies them).
    """

    article: tuple[re.Pattern[str], ...]
    listing: tuple[re.Pattern[str], ...] = ()
    pagination: tuple[re.Pattern[str], ...] = ()
    article_links: str | None = None
    listing_links: str | None = None
    items_per_page: int | None = None  # how far apart the offsets of two pages are

    def classify(self, url: str) -> ParsedUrl:
        """Classify an absolute or root-relative URL by its path (and query) alone."""
        parts = urlsplit(url)
        candidates = [unquote(parts.path) or "/"]
        if parts.query:
            candidates.append(f"{candidates[0]}?{parts.query}")
        for kind, patterns in (
            (LinkKind.LISTING, self.pagination),
            (LinkKind.ARTICLE, self.article),
            (LinkKind.LISTING, self.listing),
        ):
            for pattern in patterns:
                for candidate in candidates:
                    if match := pattern.fullmatch(candidate):
                        return self._parsed(kind, match)
        return ParsedUrl(LinkKind.OTHER)

    def _parsed(self, kind: LinkKind, match: re.Match[str]) -> ParsedUrl:
        groups = match.groupdict()
        page = int(groups["page"]) if groups.get("page") else 1
        if groups.get("offset") and self.items_per_page:
            # Offsets from 0 or from 1 alike: the first page holds offsets below items_per_page.
            page = int(groups["offset"]) // self.items_per_page + 1
        return ParsedUrl(
            kind,
            category=groups.get("category") or None,
            article_id=groups.get("id") if kind is LinkKind.ARTICLE else None,
            page=page,
        )


@cache
def _default_grammar() -> UrlGrammar:
    # Imported here: profiles builds on this module, so this module cannot import it at load time.
    from coopspider.profiles import DEFAULT_PROFILE, builtin_profiles

    return builtin_profiles()[DEFAULT_PROFILE].grammar


def classify(url: str, grammar: UrlGrammar | None = None) -> ParsedUrl:
    """Classify a URL by `grammar`, by default the Thái Bình alliance's platform."""
    return (grammar or _default_grammar()).classify(url)


def split_login(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without the user info in front of its host, and the (user, password) that was
    there, percent-decoded; None when there was none."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


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
