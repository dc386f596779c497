"""URL grammars: which URL of a site is a listing, which an article, which neither.

Pure functions on URLs. The spider follows links by its site profile's grammar, never by page
markup, so a redesign of a site's HTML does not change what is crawled. The patterns themselves
are data (`coopspider/profiles.toml`); this module is the one place that applies them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from re import _constants as sre  # type: ignore[attr-defined]  # private: typeshed omits it
from re import _parser as sre_parse  # type: ignore[attr-defined]  # private: typeshed omits it
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import regex

logger = logging.getLogger(__name__)
# A URL matched against one pattern for longer than this gives up: the pattern is taken not to
# match it, and is not used again in this process. A real match takes microseconds.
MATCH_TIMEOUT = 0.05
# URLs whose classification a grammar keeps (a few MB at most).
CLASSIFIED_KEPT = 20_000


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

    article: tuple[regex.Pattern[str], ...]
    listing: tuple[regex.Pattern[str], ...] = ()
    pagination: tuple[regex.Pattern[str], ...] = ()
    article_links: str | None = None
    listing_links: str | None = None
    items_per_page: int | None = None  # how far apart the offsets of two pages are
    # Patterns that ran past MATCH_TIMEOUT on a URL, and the URLs classified so far (menus and
    # boxes of latest news repeat on every page); each grammar has its own, copies included.
    given_up: set[str] = field(default_factory=set, init=False, compare=False, repr=False)
    classified: dict[str, ParsedUrl] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without what this process learnt: a grammar goes to the extraction workers
        with every article, and a cache of 20,000 URLs would go with it."""
        return {**self.__dict__, "given_up": set(), "classified": {}}

    def classify(self, url: str) -> ParsedUrl:
        """Classify an absolute or root-relative URL by its path (and query) alone."""
        known = self.classified.get(url)
        if known is None:
            known = self._classify(url)
            if len(self.classified) < CLASSIFIED_KEPT:
                self.classified[url] = known
        return known

    def _classify(self, url: str) -> ParsedUrl:
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
                    if match := self._fullmatch(pattern, candidate):
                        return self._parsed(kind, match)
        return ParsedUrl(LinkKind.OTHER)

    def _fullmatch(self, pattern: regex.Pattern[str], text: str) -> regex.Match[str] | None:
        """`pattern` matched against the whole of `text`, within MATCH_TIMEOUT: a pattern that
        backtracks catastrophically on some URL must not freeze the crawl."""
        if pattern.pattern in self.given_up:
            return None
        try:
            return pattern.fullmatch(text, timeout=MATCH_TIMEOUT)
        except TimeoutError:
            self.given_up.add(pattern.pattern)
            logger.error(
                "URL pattern %r gave up after %.2f s on %s: it is not used again in this crawl "
                "(rewrite it without nested repetition)",
                pattern.pattern,
                MATCH_TIMEOUT,
                text[:200],
            )
            return None

    def _parsed(self, kind: LinkKind, match: regex.Match[str]) -> ParsedUrl:
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


def catastrophic_repetition(pattern: str) -> bool:
    """Whether `pattern` repeats a group whose own repeated part can end where the next round
    begins, as `([a-z]+-?)+` does: a backtracking matcher then tries exponentially many ways to
    split a URL that does not match. A repeated group with a separator its inner repetition
    cannot match (`(?:[^/]+/)*`, `(/\\d+)+`) is fine. Other slow forms (overlapping alternatives
    under a repetition) are caught by MATCH_TIMEOUT when met."""
    return _ambiguous(sre_parse.parse(pattern))


_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_ONE_CHARACTER = (sre.LITERAL, sre.NOT_LITERAL, sre.IN)


def _parts(op: Any, value: Any) -> list[Sequence[Any]]:
    """The node sequences inside one parsed node."""
    if op in _REPEATS:
        return [value[2]]
    if op is sre.SUBPATTERN:
        return [value[-1]]
    if op is sre.BRANCH:
        return list(value[1])
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [value[1]]
    return []


def _ambiguous(nodes: Sequence[Any]) -> bool:
    for op, value in nodes:
        if op in _REPEATS and value[1] > 1 and _varies(value[2]) and not _separated(value[2]):
            return True
        if any(_ambiguous(part) for part in _parts(op, value)):
            return True
    return False


def _varies(nodes: Sequence[Any]) -> bool:
    """Whether `nodes` hold a repetition of variable length, at any depth."""
    return any(
        (op in _REPEATS and value[0] != value[1]) or any(_varies(p) for p in _parts(op, value))
        for op, value in nodes
    )


def _separated(body: Sequence[Any]) -> bool:
    """Whether each round of `body` holds a character that none of its repetitions can match
    (a mandatory literal such as the `/` of `(?:[^/]+/)*`), which fixes where rounds end."""
    repeated = _repeated_atoms(body)
    return any(
        op is sre.LITERAL and not any(_can_match(atom, value) for atom in repeated)
        for op, value in _mandatory(body)
    )


def _mandatory(nodes: Sequence[Any]) -> list[tuple[Any, Any]]:
    """The nodes of a sequence, those inside its groups included: each is matched once."""
    flat: list[tuple[Any, Any]] = []
    for op, value in nodes:
        flat += _mandatory(value[-1]) if op is sre.SUBPATTERN else [(op, value)]
    return flat


def _repeated_atoms(nodes: Sequence[Any], inside: bool = False) -> list[tuple[Any, Any]]:
    """The one-character nodes under a variable repetition in `nodes` (any other node there
    becomes `(ANY, None)`, which can match anything)."""
    atoms: list[tuple[Any, Any]] = []
    for op, value in nodes:
        if op in _REPEATS:
            atoms += _repeated_atoms(value[2], inside or value[0] != value[1])
        elif parts := _parts(op, value):
            for part in parts:
                atoms += _repeated_atoms(part, inside)
        elif inside:
            atoms.append((op, value) if op in _ONE_CHARACTER else (sre.ANY, None))
    return atoms


_CATEGORIES = {
    sre.CATEGORY_DIGIT: str.isdigit,
    sre.CATEGORY_WORD: lambda char: char.isalnum() or char == "_",
    sre.CATEGORY_SPACE: str.isspace,
}


def _can_match(atom: tuple[Any, Any], code: int) -> bool:
    op, value = atom
    char = chr(code)
    if op is sre.LITERAL:
        return value == code
    if op is sre.NOT_LITERAL:
        return value != code
    if op is sre.IN:
        negated = bool(value) and value[0][0] is sre.NEGATE
        hit = any(_in_item(item, code, char) for item in value[negated:])
        return hit != negated
    return True  # ANY, or a form not looked into: assume the worst


def _in_item(item: tuple[Any, Any], code: int, char: str) -> bool:
    op, value = item
    if op is sre.LITERAL:
        return value == code
    if op is sre.RANGE:
        return value[0] <= code <= value[1]
    if op is sre.CATEGORY:
        name = str(value)
        for category, test in _CATEGORIES.items():
            if name == str(category):
                return test(char)
            if name == str(category).replace("CATEGORY_", "CATEGORY_NOT_"):
                return not test(char)
    return True


def split_login(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without the user info in front of its host, and the (user, password) that was
    there, percent-decoded; None when there was none."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


def with_login(url: str, login: tuple[str, str] | None) -> str:
    """`url` with a (user, password) put back in front of its host (see `split_login`)."""
    if login is None:
        return url
    parts = urlsplit(url)
    user, password = (quote(part, safe="") for part in login)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.netloc}"))


def host_of(url: str) -> str:
    """Host name without port and without a leading `www.`, lower case."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


@lru_cache(maxsize=4096)
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
