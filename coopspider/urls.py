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
    need a `page` group; `listing` patterns (first listing pages) may have a `category` group.
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
                        return _parsed(kind, match)
        return ParsedUrl(LinkKind.OTHER)


def _parsed(kind: LinkKind, match: re.Match[str]) -> ParsedUrl:
    groups = match.groupdict()
    page = groups.get("page")
    return ParsedUrl(
        kind,
        category=groups.get("category") or None,
        article_id=groups.get("id") if kind is LinkKind.ARTICLE else None,
        page=int(page) if page else 1,
    )


@cache
def _default_grammar() -> UrlGrammar:
    # Imported here: profiles builds on this module, so this module cannot import it at load time.
    from coopspider.profiles import DEFAULT_PROFILE, builtin_profiles

    return builtin_profiles()[DEFAULT_PROFILE].grammar


def classify(url: str, grammar: UrlGrammar | None = None) -> ParsedUrl:
    """Classify a URL by `grammar`, by default the Thái Bình alliance's platform."""
    return (grammar or _default_grammar()).classify(url)


def host_of(url: str) -> str:
    """Host name without port and without a leading `www.`, lower case."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def site_of(url: str) -> tuple[str, int | None] | None:
    """What a URL's site is: its host (as `host_of` gives it) and its port, None for the default
    ports (80 and 443 alike, so http and https are one site); None for anything but http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    try:
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    return host_of(url), None if port in (None, 80, 443) else port


def same_site(url: str, base_url: str) -> bool:
    """Whether `url` is on the site of `base_url`: the same host and port; http and https, the
    default ports and a leading `www.` make no difference. Another port or a subdomain is
    another site."""
    site = site_of(url)
    return site is not None and site == site_of(base_url)


def on_site(url: str, base_url: str) -> str | None:
    """`url` rewritten to the base URL's scheme and host, or None when it is on another site.

    The site answers on http and https alike; rewriting both to one form makes them one request
    fingerprint, so a page linked both ways is fetched once. Fragments are dropped.
    """
    if not same_site(url, base_url):
        return None
    parts = urlsplit(url)
    base = urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, ""))
