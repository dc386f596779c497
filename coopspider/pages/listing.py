"""The listing page object: every link a home or category page offers, as absolute URLs."""

from __future__ import annotations

from scrapy.http import TextResponse


class ListingPage:
    """Links of a home page or a category listing; which of them to follow is the spider's call."""

    def __init__(self, response: TextResponse) -> None:
        self.response = response

    def links(self) -> list[str]:
        """Absolute URLs of all `<a href>` on the page, in page order, without duplicates."""
        hrefs = self.response.xpath("//a/@href").getall()
        seen: dict[str, None] = {}
        for href in hrefs:
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "#")):
                seen.setdefault(self.response.urljoin(href), None)
        return list(seen)
