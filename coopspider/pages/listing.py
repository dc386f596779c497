"""The listing page object: the links a home or category page offers, classified by a grammar,
and the links of any page with their anchor texts (what `coopspider discover` learns from)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from lxml import etree
from parsel import Selector
from w3lib.html import get_base_url

from coopspider.pages.blocks import parse_html
from coopspider.pages.selectors import select
from coopspider.profiles import classify
from coopspider.text import clean_line
from coopspider.urls import LinkKind, ParsedUrl, UrlGrammar

_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "#")
# How far into a page a `<base href>` is looked for, as Scrapy's `response.urljoin` looks.
_BASE_SCAN = 4096


class ListingPage:
    """Links of a home page or a category listing, read from its URL and HTML like ArticlePage;
    which of them to follow is the spider's call."""

    def __init__(self, url: str, html_text: str, grammar: UrlGrammar | None = None) -> None:
        self.url = url
        self.grammar = grammar
        self.selector = Selector(text=html_text, type="html")
        # Links resolve as Scrapy's `response.urljoin` resolves them: against the page's
        # `<base href>` when its first 4096 characters set one.
        self.base_url = get_base_url(html_text[:_BASE_SCAN], url)

    def links(self) -> list[str]:
        """Absolute URLs of all `<a href>` on the page, in page order, without duplicates."""
        return self._absolute(self.selector.xpath("//a/@href").getall())

    def classified_links(self) -> list[tuple[str, ParsedUrl]]:
        """Article and listing links with what the grammar makes of them, in page order.

        Where the grammar names the parts of the page that hold article or listing links, links
        of that kind elsewhere on the page (menus, sidebars) are left out.
        """
        grammar = self.grammar
        allowed = {
            LinkKind.ARTICLE: self._links_within(grammar.article_links if grammar else None),
            LinkKind.LISTING: self._links_within(grammar.listing_links if grammar else None),
        }
        found = []
        for url in self.links():
            parsed = classify(url, self.grammar)
            if parsed.kind is LinkKind.OTHER:
                continue
            within = allowed[parsed.kind]
            if within is None or url in within:
                found.append((url, parsed))
        return found

    def _links_within(self, selector: str | None) -> set[str] | None:
        if not selector:
            return None
        root: etree._Element = self.selector.root
        hrefs = [
            link.get("href") or ""
            for element in select(root, selector)
            for link in element.iter("a")
        ]
        return set(self._absolute(hrefs))

    def _absolute(self, hrefs: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for href in hrefs:
            href = href.strip()
            if href and not href.startswith(_SKIPPED_SCHEMES):
                seen.setdefault(urljoin(self.base_url, href), None)
        return list(seen)


@dataclass(frozen=True)
class Anchor:
    """One `<a href>` of a page."""

    url: str  # absolute, without its fragment
    text: str  # the link's text, else the alt text of an image inside it, cleaned
    label: str  # the link's title or aria-label attribute, cleaned ("" when none)
    rel_next: bool  # rel="next": the page says this is its next page


def page_anchors(url: str, html_text: str) -> list[Anchor]:
    """Every link of a page, in page order (a URL linked twice appears twice)."""
    root = parse_html(html_text)
    base = root.find(".//base[@href]")
    base_url = _resolved(url, base.get("href") or "") if base is not None else None
    found = []
    for element in root.iter("a"):
        href = (element.get("href") or "").strip()
        if not href or href.startswith(_SKIPPED_SCHEMES):
            continue
        absolute = _resolved(base_url or url, href)
        if absolute is None:
            continue
        text = clean_line(element.text_content())
        if not text:
            text = next((clean_line(i.get("alt") or "") for i in element.iter("img")), "")
        label = clean_line(element.get("title") or element.get("aria-label") or "")
        rel_next = "next" in (element.get("rel") or "").lower().split()
        found.append(Anchor(absolute, text, label, rel_next))
    return found


def _resolved(base: str, href: str) -> str | None:
    """`href` made absolute without its fragment; None where urljoin cannot parse it."""
    try:
        return urldefrag(urljoin(base, href)).url
    except ValueError:
        return None
