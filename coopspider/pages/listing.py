"""The listing page object: the links a home or category page offers, classified by a grammar."""

from __future__ import annotations

from scrapy.http import TextResponse

from coopspider.pages.selectors import select
from coopspider.urls import LinkKind, ParsedUrl, UrlGrammar, classify

_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "#")


class ListingPage:
    """Links of a home page or a category listing; which of them to follow is the spider's call."""

    def __init__(self, response: TextResponse, grammar: UrlGrammar | None = None) -> None:
        self.response = response
        self.grammar = grammar

    def links(self) -> list[str]:
        """Absolute URLs of all `<a href>` on the page, in page order, without duplicates."""
        return self._absolute(self.response.xpath("//a/@href").getall())

    def classified_links(self) -> list[tuple[str, ParsedUrl]]:
        """Article and listing links with what the grammar makes of them, in page order.

        Where the grammar names the parts of the page that hold article or listing links, links
        of that kind elsewhere on the page (menus, sidebars) are left out.
        """
        allowed = {
            LinkKind.ARTICLE: self._links_within(self.grammar and self.grammar.article_links),
            LinkKind.LISTING: self._links_within(self.grammar and self.grammar.listing_links),
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
        root = self.response.selector.root
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
                seen.setdefault(self.response.urljoin(href), None)
        return list(seen)
